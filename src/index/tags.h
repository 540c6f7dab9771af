/* tags.h — the target interpreter a resolution is for: its Python version,
 * implementation and platform, the PEP 425 wheel tags it supports (most
 * preferred first, as packaging.tags.sys_tags orders them) and the PEP 508
 * marker environment.
 *
 * The caller fills a pyti_target: target_init_host() gives the host's
 * Debian CPython (3.11.2 unless told otherwise) on this machine's
 * architecture and glibc; target_set_python() changes the version; the
 * sandbox can later fill the fields (or an explicit tag list) from the real
 * interpreter it finds. Tags are computed in C, no Python is run. */
#ifndef PYTI_TAGS_H
#define PYTI_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/strv.h"
#include "pkg/marker.h"
#include "pkg/name.h"

typedef enum pyti_libc {
    PYTI_LIBC_GLIBC, /* manylinux tags */
    PYTI_LIBC_MUSL,  /* musllinux tags */
    PYTI_LIBC_NONE,  /* only linux_<arch> (or an explicit platform list) */
} pyti_libc;

typedef struct pyti_tagmap pyti_tagmap; /* tag string -> priority */

typedef struct pyti_target {
    unsigned py_major, py_minor, py_micro; /* 3, 11, 2 */
    char interpreter[16];   /* tag abbreviation: "cp" (CPython), "pp", ... */
    char machine[72];       /* uname machine: "x86_64", "aarch64", ... */
    pyti_libc libc;
    unsigned libc_major, libc_minor; /* glibc 2.36, musl 1.2 */
    /* Optional: ABI tags of the interpreter for non-CPython ("pypy39_pp73"),
     * or to override CPython's computed one ("cp311d"). */
    pyti_strv abis;
    /* Supported tags "py-abi-plat", most preferred first. Filled by
     * target_compute_tags(); a caller may fill it directly instead (then
     * call target_index_tags()). */
    pyti_strv tags;
    /* Marker environment; strings point into storage owned by the target. */
    pyti_marker_env env;
    char *env_store[12];
    pyti_tagmap *map;       /* built by target_index_tags */
} pyti_target;

/* The host's Debian CPython: version python_version ("3.11" or "3.11.2";
 * NULL means "3.11.2", Debian 12's python3), the machine from uname(), the
 * C library from gnu_get_libc_version() (glibc; musl is not detected),
 * tags computed and indexed, marker environment filled. Fails
 * (PYTI_ERR_USAGE) only for a malformed version. */
pyti_status target_init_host(pyti_target *t, const char *python_version, pyti_error *err);

/* Fills t from what the target interpreter reported about itself (the
 * venv task asks it inside the sandbox): its full version ("3.11.2";
 * anything after X.Y.Z, like "rc1" or "+", is ignored for the numbers),
 * its PEP 508 environment (every field but extra set; copied) and its
 * supported tags, most preferred first (copied and indexed; when tags is
 * empty they are computed from the version and machine, for the host's
 * C library). PYTI_ERR_INPUT naming the field for a malformed version or
 * a missing marker value; t is then left freed. */
pyti_status target_init_reported(pyti_target *t, const char *version, const pyti_marker_env *env,
                                 const pyti_strv *tags, pyti_error *err);

/* Changes the Python version ("X.Y" or "X.Y.Z"; "X.Y" means X.Y.0 for
 * Requires-Python checks, as pip's --python-version does), then recomputes
 * the tags and the marker environment. PYTI_ERR_USAGE for a malformed
 * version or one older than 3.0. */
pyti_status target_set_python(pyti_target *t, const char *python_version, pyti_error *err);

/* Recomputes t->tags from the fields (packaging.tags.sys_tags order:
 * cpython_tags or generic_tags, then compatible_tags) and indexes them. */
void target_compute_tags(pyti_target *t);
/* (Re)builds the priority map from t->tags (call after filling tags by
 * hand). Tags are compared lowercased. */
void target_index_tags(pyti_target *t);
/* Recomputes env from the fields (Linux, CPython or the implementation
 * named by interpreter). */
void target_update_env(pyti_target *t);
void target_free(pyti_target *t);

/* The platform tags of the target, most preferred first (manylinux_2_N
 * with the legacy manylinux1/2010/2014 aliases in their places,
 * musllinux_1_N, then linux_<arch>), appended to out. */
void target_platforms(const pyti_target *t, pyti_strv *out);

/* Priority (0 = most preferred) of one tag "py-abi-plat", or -1. */
long target_tag_priority(const pyti_target *t, const char *tag);
/* The best priority among the tags a wheel file name expands to, or -1 if
 * the wheel is not supported by the target (pip's
 * Wheel.find_most_preferred_tag). */
long target_wheel_priority(const pyti_target *t, const pyti_dist_filename *f);
/* Number of supported tags (the priority pip gives an sdist is -count). */
size_t target_tag_count(const pyti_target *t);

/* "X.Y.Z" of the target into buf. */
void target_python_full(const pyti_target *t, char *buf, size_t size);

#endif
