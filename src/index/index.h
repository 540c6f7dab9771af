/* index.h — one or more package indexes seen as one (pip's --index-url and
 * --extra-index-url): project pages fetched and parsed once, core
 * metadata of a file found without running package code, verified
 * downloads, and the resolver's provider over all that.
 *
 * Metadata, in order of preference: the PEP 658 metadata file the index
 * offers (verified with its own hash); else the wheel itself (downloaded
 * and verified, METADATA read from the zip); else an sdist's PKG-INFO when
 * it is Metadata-Version 2.2 or later and none of Requires-Dist,
 * Requires-Python, Provides-Extra is Dynamic (PEP 643). Anything else
 * "needs a PEP 517 metadata build": the resolver stops with that outcome,
 * unless a metadata builder is installed (index_set_builder), the hook the
 * sandbox will fill. */
#ifndef PYTI_INDEX_H
#define PYTI_INDEX_H

#include "common/config.h"
#include "common/err.h"
#include "common/strv.h"
#include "index/http.h"
#include "index/resolver.h"
#include "index/simpleapi.h"

#define PYTI_DEFAULT_INDEX "https://pypi.org/simple"
#define INDEX_MAX_METADATA (16u << 20) /* a METADATA / PKG-INFO file */

typedef struct pyti_index pyti_index;

/* An index set over http (borrowed; must outlive the index). urls: the
 * main index first, then the extra ones (at least one). */
pyti_index *index_new(pyti_http *http, const pyti_strv *urls);
void index_free(pyti_index *ix);

/* Reads [index] url, extra_urls (whitespace- or comma-separated) from
 * cfg into urls, unless urls already has entries from the command line:
 * url_opt (--index-url, may be NULL) and extra_opts (--extra-index-url).
 * The result always has the main index first (default PyPI). Also checks
 * [index] for unknown keys. */
pyti_status index_urls_from_config(const pyti_config *cfg, const char *url_opt,
                                   const pyti_strv *extra_opts, pyti_strv *urls,
                                   pyti_error *err);

/* Applies [index] retries, connect_timeout (seconds), max_page_size,
 * max_file_size and cache_dir to o (o->cache_dir then points into cfg).
 * PYTI_ERR_USAGE naming file:line for a malformed value. */
pyti_status index_http_options_from_config(const pyti_config *cfg, pyti_http_options *o,
                                           pyti_error *err);

/* Every file of a project on every index, in index order (PEP 503
 * normalised name). The array is owned by ix. A project no index knows
 * (HTTP 404) has no files; other failures are errors naming the URL. */
pyti_status index_project_files(pyti_index *ix, const char *project,
                                const pyti_dist_file **files, size_t *nfiles, pyti_error *err);

/* The parsed page of project on the i-th index (NULL if not fetched yet
 * or 404). */
const pyti_simple_project *index_project_page(pyti_index *ix, size_t i, const char *project);

/* Downloads a file (verified against its hashes) into the cache; *path
 * gets a new string naming the cached copy. */
pyti_status index_download(pyti_index *ix, const pyti_dist_file *f, char **path,
                           char *sha256_out, pyti_error *err);

/* The metadata of one file (see the top of this header). needs_build is
 * set when only a build could tell. */
pyti_status index_file_metadata(pyti_index *ix, const char *project, const pyti_dist_file *f,
                                pyti_dist_metadata *out, bool *needs_build, pyti_error *err);

/* A metadata builder: given an sdist's project, file and downloaded
 * path, fills out (exec/depbuild.h: the PEP 517 hook run in the
 * sandbox). Returns PYTI_OK, PYTI_ERR_NOTFOUND when it cannot build at
 * all (then the file needs a build, as without a builder), or another
 * error (the build failed: the resolution stops with it, as pip's
 * metadata-generation-failed). */
typedef pyti_status (*pyti_metadata_builder)(void *user, const char *project,
                                             const pyti_dist_file *f, const char *path,
                                             pyti_dist_metadata *out, pyti_error *err);
void index_set_builder(pyti_index *ix, pyti_metadata_builder fn, void *user);

/* The resolver's provider over this index set. */
void index_provider(pyti_index *ix, pyti_provider *out);

/* Fetches the pages of these projects in parallel (libcurl multi), so
 * later index_project_files calls are answered from memory. Failures are
 * left for index_project_files to report. */
void index_prefetch(pyti_index *ix, const char *const *projects, size_t n);

/* Reads the core metadata file of a distribution archive at path (a
 * wheel's <name>.dist-info/METADATA, an sdist's <top>/PKG-INFO) into a
 * new string (*out, *len). PYTI_ERR_NOTFOUND if there is none. */
pyti_status index_read_dist_metadata(const char *path, const char *filename, char **out,
                                     size_t *len, pyti_error *err);

/* Fills out from core metadata text (Name, Version, Requires-Python,
 * Requires-Dist, Provides-Extra). For an sdist (is_sdist) sets
 * *is_static to whether the dependency fields can be trusted (PEP 643).
 * PYTI_ERR_INPUT if the text is not metadata. */
pyti_status index_metadata_from_text(const char *text, size_t len, const char *source_name,
                                     bool is_sdist, pyti_dist_metadata *out, bool *is_static,
                                     pyti_error *err);

#endif
