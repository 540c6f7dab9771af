/* install_internal.h — the pure text rules of the wheel installer (see
 * install.h), private to src/pkg and exposed for unit tests and the fuzz
 * target: reading entry_points.txt as pip 23.0.1 does (importlib.metadata
 * on Python 3.11), the export-entry syntax of pip's vendored distlib, the
 * launcher scripts pip writes for console_scripts and gui_scripts, and
 * pip's rewriting of "#!python" lines in a wheel's scripts.
 *
 * Every function here works on bytes in memory and touches no file. */
#ifndef PYTI_INSTALL_INTERNAL_H
#define PYTI_INSTALL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/strv.h"

/* An insertion-ordered map of entry point name -> value, with Python
 * dict semantics: setting a name again replaces its value in place. */
typedef struct pyti_ep_map {
    pyti_strv names;
    pyti_strv values;
} pyti_ep_map;

void ep_map_set(pyti_ep_map *m, const char *name, const char *value);
/* The value of name or NULL. */
const char *ep_map_get(const pyti_ep_map *m, const char *name);
void ep_map_free(pyti_ep_map *m);

/* Reads entry_points.txt (text[0..len)) as importlib.metadata does:
 * str.splitlines() (every Unicode line boundary), str.strip() of each
 * line, '#' comments and blank lines dropped, "[group]" headers (the name
 * is the line with every leading and trailing bracket stripped), lines
 * before the first header ignored, "name = value" split at the first '='
 * and both sides stripped. Only the groups console_scripts and
 * gui_scripts are kept. Fails (PYTI_ERR_INPUT) if text is not UTF-8 or a
 * line in a group has no '=' — pip stops on both. */
pyti_status entry_points_parse(const char *text, size_t len, pyti_ep_map *console,
                               pyti_ep_map *gui, pyti_error *err);

/* pip's get_console_script_specs: the "name = value" specs pip hands to
 * distlib for console scripts, in order. An entry "pip" becomes "pip",
 * "pip<X>" and "pip<X.Y>" (other pipN[.M] entries dropped); "easy_install"
 * becomes "easy_install" and "easy_install-<X.Y>" (others dropped); the
 * rest follow in file order. python_version is "X.Y". This is pip's
 * behaviour when ENSUREPIP_OPTIONS is not set. */
void console_script_specs(const pyti_ep_map *console, const char *python_version,
                          pyti_strv *specs);
/* "name = value" for every gui_scripts entry, in order. */
void gui_script_specs(const pyti_ep_map *gui, pyti_strv *specs);

/* A parsed export entry (distlib's get_export_entry). */
typedef struct pyti_export_entry {
    char *name;   /* the script's file name */
    char *prefix; /* the module ("pkg.mod") */
    char *suffix; /* the callable ("main", "Obj.method") */
} pyti_export_entry;

/* Parses spec with distlib's ENTRY_RE, searched (not anchored) like
 * re.search, \w and \s with Python 3.11's Unicode rules. pip refuses, and
 * so does this (PYTI_ERR_INPUT with the reason), a spec that does not
 * match, has brackets that are not a valid flags list, has no ":callable"
 * or more than one ':', or names the script "." or "..". */
pyti_status export_entry_parse(const char *spec, pyti_export_entry *out, pyti_error *err);
void export_entry_free(pyti_export_entry *e);

/* The shebang distlib's ScriptMaker writes for launchers on Linux, with
 * the line break: "#!<python>\n" when python has no space and the line is
 * at most 127 bytes; otherwise the /bin/sh trampoline
 * "#!/bin/sh\n'''exec' <python> \"$0\" \"$@\"\n' '''\n", with python
 * quoted if it has a space (distlib's enquote_executable). NULL with err
 * (PYTI_ERR_USAGE) if python is empty or not UTF-8 (distlib refuses). New
 * string. */
char *launcher_shebang(const char *python, pyti_error *err);

/* The whole launcher: shebang + distlib's script template for entry e
 * (console and gui launchers are the same on POSIX). Appends to out. */
void launcher_text(const char *shebang, const pyti_export_entry *e, pyti_buf *out);

/* pip's fix_script: if the first line (up to and including the first
 * '\n', or the whole file) starts with "#!python", appends
 * "#!<python>\n" and the rest of the file to out and returns true (the
 * interpreter's arguments and the line's own ending are dropped, and no
 * trampoline is used, exactly as pip does). Otherwise returns false and
 * leaves out alone. */
bool script_fix_shebang(const char *data, size_t len, const char *python, pyti_buf *out);

/* pip's is_entrypoint_wrapper: true if a file called base in the wheel's
 * .data/scripts is a wrapper setuptools generated for an entry point
 * (base, minus ".exe", "-script.py" or ".pya" matched case-insensitively,
 * names a console or gui entry point). pip skips those files. */
bool script_is_entrypoint_wrapper(const char *base, const pyti_ep_map *console,
                                  const pyti_ep_map *gui);

/* Lexical path helpers, as Python's posixpath: */
/* posixpath.normpath of path (new string). */
char *install_normpath(const char *path);
/* posixpath.relpath(path, start) for two normalised absolute paths. */
char *install_relpath(const char *path, const char *start);
/* pip's path_to_url for a normalised absolute path: "file://" + the path
 * percent-encoded as urllib.parse.quote does (safe: letters, digits,
 * "_.-~/"). New string. */
char *install_file_url(const char *abs_path);

#endif
