/* config.h — pyti's own settings file (INI, read with libinih):
 * $XDG_CONFIG_HOME/pyti/pyti.ini by default, or --config FILE.
 *
 *   [store]
 *   path = /var/lib/pyti/pyti.db
 *   [limits]
 *   extract_max_total_size = 1073741824
 *
 * The loader keeps every value with its file:line; typed getters report
 * malformed values and unknown keys with that location. */
#ifndef PYTI_CONFIG_H
#define PYTI_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

typedef struct pyti_config pyti_config;

/* Loads path. If path is NULL the default location is used and a missing
 * file is an empty configuration; an explicitly named missing file is
 * PYTI_ERR_NOTFOUND. Syntax errors are PYTI_ERR_USAGE naming file:line. */
pyti_config *config_load(const char *path, pyti_error *err);
/* An empty configuration (for tests and defaults). */
pyti_config *config_new_empty(void);
void config_free(pyti_config *cfg);

/* Sets a value (later values win), as if read from "where". */
void config_set(pyti_config *cfg, const char *section, const char *key, const char *value,
                const char *where);

/* The last value of section.key, or NULL. */
const char *config_get(const pyti_config *cfg, const char *section, const char *key);
/* Typed getters: leave *out unchanged when the key is absent; PYTI_ERR_USAGE
 * naming file:line for a malformed value. Sizes accept K/M/G suffixes
 * (powers of 1024). */
pyti_status config_get_u64(const pyti_config *cfg, const char *section, const char *key,
                           uint64_t *out, pyti_error *err);
/* A boolean: true/yes/on/1 or false/no/off/0 (any case). */
pyti_status config_get_bool(const pyti_config *cfg, const char *section, const char *key,
                            bool *out, pyti_error *err);
pyti_status config_get_double(const pyti_config *cfg, const char *section, const char *key,
                              double *out, pyti_error *err);

/* Fails (PYTI_ERR_USAGE, file:line) if section has a key not in known
 * (NULL-terminated). */
pyti_status config_check_keys(const pyti_config *cfg, const char *section,
                              const char *const *known, pyti_error *err);
/* The file the configuration came from, or NULL. */
const char *config_path(const pyti_config *cfg);

#endif
