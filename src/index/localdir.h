/* localdir.h — providers for the resolver besides an index set: a local
 * directory of wheels (the wheelhouse of Debian's build backends) and a
 * pool of providers seen as one (an index set plus that directory).
 *
 * A local directory is read once, on the first question: every regular
 * file of it (not of subdirectories, never through a symlink) named like
 * a wheel is a file of its project, with its SHA-256 and a file:// URL;
 * its metadata is the wheel's METADATA. Nothing is downloaded.
 *
 * A pool lists the files of every provider for a project, in provider
 * order, as one list (so the best file wins whichever provider has it,
 * as pip merges its indexes and find-links), and asks the provider a
 * file came from for its metadata. */
#ifndef PYTI_LOCALDIR_H
#define PYTI_LOCALDIR_H

#include "index/resolver.h"

typedef struct pyti_localdir pyti_localdir;

/* A provider over the wheels in dir. label names it in the files'
 * index_url ("wheelhouse"). Both strings are copied. Cannot fail: a
 * missing or unreadable directory has no files (and says so in the log). */
pyti_localdir *localdir_new(const char *dir, const char *label);
void localdir_free(pyti_localdir *d);
void localdir_provider(pyti_localdir *d, pyti_provider *out);

/* The path of a file this directory listed (its url without "file://"),
 * or NULL if f is not one of its files. */
const char *localdir_file_path(const pyti_localdir *d, const pyti_dist_file *f);

typedef struct pyti_provider_pool pyti_provider_pool;

/* A pool over subs[0..n) (borrowed; they must outlive it). prefetch is
 * passed on to every sub-provider that has one. */
pyti_provider_pool *provider_pool_new(const pyti_provider *subs, size_t n);
void provider_pool_free(pyti_provider_pool *p);
void provider_pool_provider(pyti_provider_pool *p, pyti_provider *out);

#endif
