// libjpeg-turbo (Debian package libjpeg-dev installs it under /usr/include), plus one
// decoding function that keeps libjpeg's fatal errors from ending the process.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

// libjpeg reports a fatal error by calling `error_exit`, which must not return (the
// default one calls exit()). Swift cannot use setjmp/longjmp, so the whole decode runs
// here, in C: `error_exit` records libjpeg's message and jumps back to the setjmp in
// `ember_jpeg_decode_rgb`, which frees everything and returns an error code.
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX + 64];
} ember_jpeg_error_t;

static inline void ember_jpeg_error_exit(j_common_ptr cinfo) {
    ember_jpeg_error_t *error = (ember_jpeg_error_t *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, error->message);
    longjmp(error->jump, 1);
}

// Warnings are ignored, except a premature end of data: libjpeg would fill the rest of
// the image with grey, but a truncated file is an error for Ember (as for PIL).
static inline void ember_jpeg_emit_message(j_common_ptr cinfo, int level) {
    if (level < 0) {
        cinfo->err->num_warnings++;
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
            ember_jpeg_error_t *error = (ember_jpeg_error_t *)cinfo->err;
            snprintf(error->message, sizeof error->message, "truncated file (premature end of JPEG data)");
            longjmp(error->jump, 1);
        }
    }
}

/// Decodes a JPEG held in memory to 8-bit interleaved RGB (grayscale is expanded to RGB),
/// with libjpeg's defaults (integer IDCT, fancy upsampling), as PIL does.
/// Returns 0 and a malloc'ed buffer of width*height*3 bytes in *pixels (free it with
/// free()), or 1 and libjpeg's message, or 2 for an unsupported colour space (CMYK, YCCK),
/// or 3 when the header declares more than `maxPixels` pixels (*width and *height are set;
/// nothing is allocated).
static inline int ember_jpeg_decode_rgb(const unsigned char *data, unsigned long size, unsigned char **pixels,
                                        int *width, int *height, size_t maxPixels,
                                        char *message, size_t messageCapacity) {
    struct jpeg_decompress_struct cinfo;
    ember_jpeg_error_t error;
    unsigned char *volatile buffer = NULL;
    *pixels = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&error.base);
    error.base.error_exit = ember_jpeg_error_exit;
    error.base.emit_message = ember_jpeg_emit_message;
    error.message[0] = 0;
    if (setjmp(error.jump)) {
        snprintf(message, messageCapacity, "%s", error.message);
        jpeg_destroy_decompress(&cinfo);
        free(buffer);
        return 1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, size);
    jpeg_read_header(&cinfo, TRUE);
    if ((size_t)cinfo.image_width * cinfo.image_height > maxPixels) {
        *width = (int)cinfo.image_width;
        *height = (int)cinfo.image_height;
        jpeg_destroy_decompress(&cinfo);
        return 3;
    }
    if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
        snprintf(message, messageCapacity, "CMYK/YCCK JPEGs are not supported (only grayscale and YCbCr/RGB)");
        jpeg_destroy_decompress(&cinfo);
        return 2;
    }
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height;
    if (cinfo.output_components != 3 || w == 0 || h == 0 || w > 65535 || h > 65535) {
        snprintf(message, messageCapacity, "unexpected output: %zu x %zu with %d components", w, h, cinfo.output_components);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    buffer = (unsigned char *)malloc(w * h * 3);
    if (buffer == NULL) {
        snprintf(message, messageCapacity, "out of memory for a %zu x %zu image", w, h);
        jpeg_destroy_decompress(&cinfo);
        return 1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = buffer + (size_t)cinfo.output_scanline * w * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    *pixels = buffer;
    *width = (int)w;
    *height = (int)h;
    return 0;
}
