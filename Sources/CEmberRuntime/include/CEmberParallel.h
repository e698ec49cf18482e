// Running chunks of work on OpenMP's thread pool (libgomp, the pool oneDNN uses), so Ember's
// own kernels and oneDNN's share one set of threads instead of competing for the cores.
#ifndef CEMBER_PARALLEL_H
#define CEMBER_PARALLEL_H

/// A chunk of work: called once per chunk index with the caller's context.
typedef void (*ember_chunk_fn)(void *context, long chunk);

/// Calls `fn(context, c)` for every chunk c in [0, chunks) on up to `threads` threads
/// (the calling thread included) and returns when all are done.
void ember_parallel_for(long chunks, unsigned threads, ember_chunk_fn fn, void *context);

/// The number of threads OpenMP regions started from this thread use by default (what
/// oneDNN sizes its work by); `omp_get_max_threads`.
int ember_omp_max_threads(void);
/// Sets that number for this thread; `omp_set_num_threads`.
void ember_omp_set_max_threads(int threads);
/// Nonzero inside an OpenMP parallel region (where oneDNN runs single-threaded);
/// `omp_in_parallel`.
int ember_omp_in_parallel(void);

#endif
