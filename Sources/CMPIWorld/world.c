#include "CMPIWorld.h"

#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int joined = 0, world_rank = 0, world_size = 1;
static double timeout_seconds = 120;
/* Written by the thread that runs a collective, read by the watchdog thread. */
static _Atomic double entered_at = 0;           /* monotonic time the current collective started, 0 outside */
static const char *_Atomic entered_name = "";
static char last_error[MPI_MAX_ERROR_STRING + 64] = "";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *watchdog(void *unused) {
    (void)unused;
    for (;;) {
        usleep(250000);
        double started = atomic_load_explicit(&entered_at, memory_order_acquire);
        if (timeout_seconds > 0 && started > 0 && now() - started > timeout_seconds) {
            fprintf(stderr, "cryorepl: rank %d of %d waited %.0f s in %s: another rank failed or hangs; stopping the whole job\n",
                    world_rank, world_size, now() - started, atomic_load_explicit(&entered_name, memory_order_relaxed));
            fflush(stderr);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
    }
    return NULL;
}

int cryo_world_init(void) {
    if (joined) return world_size;
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK")) return 1;
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) return 1;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    joined = 1;
    const char *timeout = getenv("CRYOSCRIPT_MPI_TIMEOUT");
    if (timeout) timeout_seconds = atof(timeout);
    pthread_t thread;
    if (pthread_create(&thread, NULL, watchdog, NULL) == 0) pthread_detach(thread);
    return world_size;
}

int cryo_world_rank(void) { return world_rank; }
int cryo_world_size(void) { return world_size; }
const char *cryo_world_error(void) { return last_error; }

/* Records the outcome of an MPI call made inside a collective. */
static int finish(int code, const char *name) {
    atomic_store_explicit(&entered_at, 0, memory_order_release);
    if (code == MPI_SUCCESS) return 0;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    snprintf(last_error, sizeof last_error, "%s failed on rank %d: %.*s", name, world_rank, length, text);
    return code;
}

static void enter(const char *name) {
    atomic_store_explicit(&entered_name, name, memory_order_relaxed);
    atomic_store_explicit(&entered_at, now(), memory_order_release);
}

int cryo_world_allreduce_float(float *values, long count) {
    if (!joined || world_size == 1) return 0;
    enter("MPI_Allreduce");
    return finish(MPI_Allreduce(MPI_IN_PLACE, values, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
}

int cryo_world_allreduce_double(double *values, long count) {
    if (!joined || world_size == 1) return 0;
    enter("MPI_Allreduce");
    return finish(MPI_Allreduce(MPI_IN_PLACE, values, (int)count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
}

int cryo_world_allgather_float(const float *values, long count, float *out, const long *counts) {
    if (!joined || world_size == 1) {
        memcpy(out, values, (size_t)count * sizeof(float));
        return 0;
    }
    int *sizes = malloc(sizeof(int) * (size_t)world_size), *offsets = malloc(sizeof(int) * (size_t)world_size);
    if (!sizes || !offsets) { free(sizes); free(offsets); snprintf(last_error, sizeof last_error, "out of memory"); return -1; }
    long offset = 0;
    for (int r = 0; r < world_size; r++) { sizes[r] = (int)counts[r]; offsets[r] = (int)offset; offset += counts[r]; }
    enter("MPI_Allgatherv");
    int code = MPI_Allgatherv(values, (int)count, MPI_FLOAT, out, sizes, offsets, MPI_FLOAT, MPI_COMM_WORLD);
    free(sizes);
    free(offsets);
    return finish(code, "MPI_Allgatherv");
}

void cryo_world_abort(int code) {
    if (joined) MPI_Abort(MPI_COMM_WORLD, code);
}

void cryo_world_finalize(void) {
    if (joined) {
        MPI_Finalize();
        joined = 0;
    }
}
