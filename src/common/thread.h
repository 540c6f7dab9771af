/* thread.h — starting threads nobody joins. */
#ifndef PYTI_THREAD_H
#define PYTI_THREAD_H

/* Starts fn(arg) on a detached thread (its resources go when it
 * returns; nobody joins it). Returns 0, or the pthread_create error
 * number when no thread could be made — then fn never runs and arg is
 * still the caller's. */
int thread_start_detached(void *(*fn)(void *), void *arg);

#endif
