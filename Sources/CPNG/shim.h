// libpng 1.6 (Debian package libpng-dev installs it under /usr/include), plus one
// decoding function that keeps libpng's errors from ending the process.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <png.h>

// libpng reports errors by calling an error function that must not return (it longjmps
// to the caller's setjmp). Swift cannot use setjmp/longjmp, so the whole decode runs
// here, in C, and returns an error code and libpng's message instead.
typedef struct {
    jmp_buf jump;
    char message[256];
} ember_png_error_t;

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
} ember_png_source_t;

static inline void ember_png_error_fn(png_structp png, png_const_charp text) {
    ember_png_error_t *error = (ember_png_error_t *)png_get_error_ptr(png);
    snprintf(error->message, sizeof error->message, "%s", text);
    longjmp(error->jump, 1);
}

static inline void ember_png_warning_fn(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static inline void ember_png_read_fn(png_structp png, png_bytep out, size_t count) {
    ember_png_source_t *source = (ember_png_source_t *)png_get_io_ptr(png);
    if (count > source->size - source->offset) png_error(png, "truncated file (unexpected end of PNG data)");
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

/// Decodes a PNG held in memory to 8-bit interleaved RGB, as PIL's `convert("RGB")` does:
/// palettes are expanded, 1/2/4-bit gray is scaled to 8 bits, 16-bit samples keep their high
/// byte, gray is replicated to RGB, and alpha (and tRNS transparency) is dropped, not
/// composited. Interlaced (Adam7) files are supported.
/// Returns 0 and a malloc'ed buffer of width*height*3 bytes in *pixels (free it with
/// free()), or 1 and libpng's message, or 3 when the header declares more than `maxPixels`
/// pixels (*width and *height are set; nothing is allocated).
static inline int ember_png_decode_rgb(const unsigned char *data, size_t size, unsigned char **pixels,
                                       int *width, int *height, size_t maxPixels,
                                       char *message, size_t messageCapacity) {
    ember_png_error_t error;
    ember_png_source_t source = {data, size, 0};
    png_structp png = NULL;
    png_infop info = NULL;
    unsigned char *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    *pixels = NULL;
    error.message[0] = 0;
    if (size < 8 || png_sig_cmp((png_const_bytep)data, 0, 8) != 0) {
        snprintf(message, messageCapacity, "not a PNG file (bad signature)");
        return 1;
    }
    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, ember_png_error_fn, ember_png_warning_fn);
    if (png == NULL) {
        snprintf(message, messageCapacity, "could not create libpng's read structure");
        return 1;
    }
    info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(message, messageCapacity, "could not create libpng's info structure");
        return 1;
    }
    if (setjmp(error.jump)) {
        snprintf(message, messageCapacity, "%s", error.message);
        png_destroy_read_struct(&png, &info, NULL);
        free(buffer);
        free(rows);
        return 1;
    }
    png_set_read_fn(png, &source, ember_png_read_fn);
    png_set_user_limits(png, 65535, 65535);
    png_read_info(png, info);
    if ((size_t)png_get_image_width(png, info) * png_get_image_height(png, info) > maxPixels) {
        *width = (int)png_get_image_width(png, info);
        *height = (int)png_get_image_height(png, info);
        png_destroy_read_struct(&png, &info, NULL);
        return 3;
    }
    int colorType = png_get_color_type(png, info);
    int bitDepth = png_get_bit_depth(png, info);
    if (colorType == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (colorType == PNG_COLOR_TYPE_GRAY && bitDepth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bitDepth == 16) png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (colorType == PNG_COLOR_TYPE_GRAY || colorType == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 || png_get_rowbytes(png, info) != w * 3) {
        png_error(png, "unexpected layout after conversion to 8-bit RGB");
    }
    buffer = (unsigned char *)malloc(w * h * 3);
    rows = (png_bytep *)malloc(h * sizeof(png_bytep));
    if (buffer == NULL || rows == NULL) png_error(png, "out of memory");
    for (size_t y = 0; y < h; y++) rows[y] = buffer + y * w * 3;
    png_read_image(png, rows);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *pixels = buffer;
    *width = (int)w;
    *height = (int)h;
    return 0;
}
