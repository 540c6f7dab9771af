/* install.h — a native wheel installer: installs wheels (PEP 427/491) into
 * an environment exactly as pip 23.0.1 does — same files, same bytes,
 * same modes, same RECORD — without running Python.
 *
 * What pip does and this does too: files of the wheel's root go to purelib
 * or platlib (Root-Is-Purelib); <name>-<ver>.data/{purelib,platlib,
 * scripts,headers,data}/ go to their scheme directories; "#!python" lines
 * of scripts are rewritten to the target interpreter; console_scripts and
 * gui_scripts entry points get distlib's launchers (with the /bin/sh
 * trampoline for long or spaced interpreter paths); INSTALLER, REQUESTED,
 * direct_url.json and RECORD are written with pip's contents and order.
 *
 * What this adds (pip does none of it): RECORD is verified before anything
 * is installed (a hash or size mismatch, a missing or unlisted file, an
 * escaping or malformed row refuses the wheel); the wheel is unpacked by
 * the safe extractor (pkg/archive.h) into a staging directory and files
 * are placed (renamed, or copied into O_EXCL files when staging is on
 * another file system) below directory descriptors opened with
 * O_NOFOLLOW, so no symlink in the target can redirect a write;
 * existing files (of another distribution, or a reinstall) are refused
 * unless overwrite is asked; and a batch is all or nothing: on any failure
 * every file written is removed, every file replaced is restored and every
 * directory created is removed again.
 *
 * The full list of decisions (and where pyti differs from pip on broken
 * wheels) is in docs/installer.md. */
#ifndef PYTI_INSTALL_H
#define PYTI_INSTALL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Where things go: the scheme of the target environment. Every path is an
 * absolute path chosen by the caller (who learned it from the interpreter
 * or from install_scheme_for_venv); the installer never asks Python. */
typedef struct pyti_install_scheme {
    char *purelib;        /* <venv>/lib/python3.11/site-packages */
    char *platlib;        /* same in a Debian venv */
    char *scripts;        /* <venv>/bin */
    char *headers;        /* <venv>/include/site/python3.11 — pip appends the
                           * project name (from the wheel's file name, '_'
                           * read as '-') */
    char *data;           /* <venv> */
    char *python;         /* the interpreter written into shebangs
                           * (pip writes sys.executable: <venv>/bin/python) */
    char *python_version; /* "3.11": names pip3.11-style launchers */
} pyti_install_scheme;

/* Fills out with the scheme pip uses in a venv made by `python3 -m venv`
 * (Debian's python3-venv) at venv_dir: the paths above with venv_dir made
 * absolute and normalised (no symlinks resolved, as sys.prefix).
 * python_version "X.Y" or NULL to read it from <venv>/pyvenv.cfg
 * ("version = X.Y.Z"). Fails with PYTI_ERR_NOTFOUND if venv_dir has no
 * pyvenv.cfg, PYTI_ERR_USAGE for a malformed version. Free with
 * install_scheme_free. */
pyti_status install_scheme_for_venv(const char *venv_dir, const char *python_version,
                                    pyti_install_scheme *out, pyti_error *err);
void install_scheme_free(pyti_install_scheme *s);

typedef struct pyti_install_options {
    const char *installer;  /* the INSTALLER file's line; NULL gives "pyti" */
    bool requested;         /* write REQUESTED (pip does for what the user
                             * named on its command line) */
    bool direct_url;        /* write direct_url.json with the wheel's
                             * file:// URL, as `pip install PATH.whl` does
                             * (not written by `pip install NAME`) */
    bool overwrite;         /* replace files that already exist (another
                             * distribution's, or this version's on a
                             * reinstall); never replaces directories, never
                             * installs over a different installed version */
    bool compile;           /* byte-compile the installed .py files by running
                             * scheme->python -I -S with compileall, as pip
                             * does in-process (see docs/installer.md) */
    const char *staging_dir; /* where to unpack first; NULL: a tmpfs $TMPDIR
                              * or /tmp, else /dev/shm if a tmpfs, else
                              * scheme->data. On the scheme's file system
                              * files and whole directories are renamed into
                              * place; elsewhere files are copied */
} pyti_install_options;

/* What one installed wheel was. */
typedef struct pyti_installed_dist {
    char *name;        /* as in METADATA's directory: "Flask" */
    char *version;
    char *dist_info;   /* "Flask-2.2.2.dist-info" */
    size_t files;      /* files written, generated ones included */
    size_t launchers;  /* console and gui launchers written */
    size_t compiled;   /* .pyc files written */
} pyti_installed_dist;

typedef struct pyti_install_result {
    pyti_installed_dist *dists;
    size_t len;
} pyti_install_result;

/* Installs the wheels (paths to .whl files) into scheme as one
 * transaction. opts NULL means the defaults of the struct zeroed
 * (installer "pyti", nothing optional). result may be NULL; free it with
 * install_result_free.
 *
 * Returns PYTI_OK; PYTI_ERR_INPUT for a wheel that is refused (bad file
 * name, not a zip, unsafe or unverifiable contents, unsupported
 * Wheel-Version, invalid entry points, two files of the batch at one
 * path); PYTI_ERR_USAGE for a conflict with what is installed (an existing
 * file without overwrite, another version of the project) or a bad
 * scheme; PYTI_ERR_LIMIT for an archive over the extraction limits;
 * PYTI_ERR_NOTFOUND for a missing wheel; PYTI_ERR_IO when the file system
 * refuses. On any error nothing of the batch is left installed and err
 * names the wheel and the file. */
pyti_status install_wheels(const pyti_install_scheme *scheme, const char *const *wheels,
                           size_t n, const pyti_install_options *opts,
                           pyti_install_result *result, pyti_error *err);
void install_result_free(pyti_install_result *r);

#endif
