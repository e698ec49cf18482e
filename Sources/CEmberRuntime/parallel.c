// A parallel-for on libgomp's thread pool through its stable entry points, so no OpenMP
// compiler flag is needed: GOMP_parallel runs a function on a team of threads, each of
// which takes every `team size`-th chunk.
#include "CEmberParallel.h"

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_get_max_threads(void);
extern void omp_set_num_threads(int);
extern int omp_in_parallel(void);

int ember_omp_max_threads(void) { return omp_get_max_threads(); }
void ember_omp_set_max_threads(int threads) { omp_set_num_threads(threads); }
int ember_omp_in_parallel(void) { return omp_in_parallel(); }

struct ember_job {
    ember_chunk_fn fn;
    void *context;
    long chunks;
};

static void run_team_member(void *data) {
    struct ember_job *job = data;
    long member = omp_get_thread_num(), team = omp_get_num_threads();
    for (long chunk = member; chunk < job->chunks; chunk += team) job->fn(job->context, chunk);
}

void ember_parallel_for(long chunks, unsigned threads, ember_chunk_fn fn, void *context) {
    if (chunks <= 0) return;
    if (chunks == 1 || threads <= 1) {
        for (long chunk = 0; chunk < chunks; chunk++) fn(context, chunk);
        return;
    }
    struct ember_job job = {fn, context, chunks};
    GOMP_parallel(run_team_member, &job, threads < chunks ? threads : (unsigned)chunks, 0);
}
