#ifndef CRYO_MPI_WORLD_H
#define CRYO_MPI_WORLD_H

/* The MPI world a CryoScript process belongs to, behind a plain C interface (MPI's handles are macros Swift
   cannot import). A process started without mpirun never calls MPI_Init: it is a world of one, and every
   collective below is the identity. Collectives return 0 on success, else an MPI error code, with the message in
   cryo_world_error(); COMM_WORLD uses MPI_ERRORS_RETURN, so no failure ends the process behind CryoScript's back.
   A watchdog thread stops the whole job (MPI_Abort) when a collective waits longer than CRYOSCRIPT_MPI_TIMEOUT
   seconds (default 120; 0 disables): a rank that died or hangs cannot leave the others waiting forever. */

/* Joins the world if this process was started by mpirun (Open MPI or PMIx environment); returns the world size. */
int cryo_world_init(void);
int cryo_world_rank(void);
int cryo_world_size(void);
/* In-place sums over all ranks, in the same reduction order on every call for the same sizes. */
int cryo_world_allreduce_float(float *values, long count);
int cryo_world_allreduce_double(double *values, long count);
/* Concatenates every rank's `count` floats in rank order into `out` (sum of all counts), on every rank. */
int cryo_world_allgather_float(const float *values, long count, float *out, const long *counts);
/* Stops every rank of the job with `code` (returns only in a world of one). */
void cryo_world_abort(int code);
void cryo_world_finalize(void);
const char *cryo_world_error(void);

#endif
