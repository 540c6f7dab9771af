/* metrics_history.c — a project's release history over the metrics
 * catalogue (see metrics.h, docs/metrics.md): what changed from one
 * release to the next, better or worse by the catalogue's direction, and
 * the regressions: no longer installs or imports, tests that passed and
 * fail now, newly suspicious. */
#include "exec/metrics.h"
#include "common/jsonutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static double value_of(const json_t *rel, const char *id)
{
    const json_t *v = json_object_get(json_object_get(rel, "values"), id);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static bool safety_flagged(const char *s)
{
    return s && (strcmp(s, "suspicious") == 0 || strcmp(s, "malicious") == 0);
}

static json_t *regression(const char *kind, const char *msg)
{
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "message", json_string(msg));
    return o;
}

/* Names in now_failed that appear in prev_passed. */
static json_t *tests_broken(const json_t *prev_passed, const json_t *now_failed)
{
    json_t *out = json_array();
    if (!json_is_array(prev_passed) || !json_is_array(now_failed))
        return out;
    size_t i, k;
    const json_t *a, *b;
    json_array_foreach(now_failed, i, a) {
        if (!json_is_string(a))
            continue;
        json_array_foreach(prev_passed, k, b) {
            if (json_is_string(b) && strcmp(json_string_value(a), json_string_value(b)) == 0) {
                json_array_append(out, (json_t *)a);
                break;
            }
        }
        if (json_array_size(out) >= 200)
            break;
    }
    return out;
}

static void history_regressions(const json_t *prev, const json_t *cur, json_t *regs)
{
    double pi = value_of(prev, "installs"), ci = value_of(cur, "installs");
    if (pi == 1 && ci == 0)
        json_array_append_new(regs, regression("installs", "installed in the previous release, "
                                                           "does not install now"));
    double pm = value_of(prev, "imports"), cm = value_of(cur, "imports");
    if (pm == 1 && isfinite(cm) && cm < 1)
        json_array_append_new(regs, regression("imports", "every module imported in the previous "
                                                          "release; some fail now"));
    double pt = value_of(prev, "tests.pass_rate"), ct = value_of(cur, "tests.pass_rate");
    json_t *broken = tests_broken(json_object_get(prev, "passed_tests"),
                                  json_object_get(cur, "failed_tests"));
    if ((isfinite(pt) && isfinite(ct) && ct < pt && pt == 1) || json_array_size(broken) > 0) {
        char msg[160];
        if (json_array_size(broken))
            snprintf(msg, sizeof msg, "%zu test%s that passed in the previous release fail%s now",
                     json_array_size(broken), json_array_size(broken) == 1 ? "" : "s",
                     json_array_size(broken) == 1 ? "s" : "");
        else
            snprintf(msg, sizeof msg, "the tests passed in the previous release and fail now");
        json_t *r = regression("tests", msg);
        json_object_set(r, "tests", broken);
        json_array_append_new(regs, r);
    }
    json_decref(broken);
    if (!safety_flagged(json_get_str(prev, "safety")) && safety_flagged(json_get_str(cur, "safety"))) {
        char msg[160];
        snprintf(msg, sizeof msg, "newly %s (the previous release was %s)", json_get_str(cur, "safety"),
                 json_get_str(prev, "safety") ?: "not assessed");
        json_array_append_new(regs, regression("suspicious", msg));
    }
}

json_t *metrics_history(const json_t *releases)
{
    size_t ncat;
    const metric_def *catalogue = metrics_catalogue(&ncat);
    json_t *out = json_array();
    size_t n = json_array_size(releases);
    for (size_t i = 0; i < n; i++) {
        const json_t *cur = json_array_get(releases, i);
        json_t *o = json_object();
        json_t *changes = json_array(), *regs = json_array();
        json_set_text(o, "version", json_get_str(cur, "version"));
        if (i > 0) {
            const json_t *prev = json_array_get(releases, i - 1);
            for (size_t k = 0; k < ncat; k++) {
                const metric_def *m = &catalogue[k];
                double a = value_of(prev, m->id), b = value_of(cur, m->id);
                if (!isfinite(a) && !isfinite(b))
                    continue;
                if (isfinite(a) && isfinite(b) && fabs(a - b) <= 1e-9 * fmax(fabs(a), 1))
                    continue;
                /* Timings jitter: only a change of 20 % and 1 s counts. */
                if (isfinite(a) && isfinite(b) && strcmp(m->unit, "seconds") == 0 &&
                    (fabs(a - b) < 1 || fabs(a - b) < 0.2 * fmax(a, b)))
                    continue;
                json_t *c = json_object();
                json_object_set_new(c, "id", json_string(m->id));
                json_object_set_new(c, "from", isfinite(a) ? json_real(a) : json_null());
                json_object_set_new(c, "to", isfinite(b) ? json_real(b) : json_null());
                const char *dir = "changed";
                if (isfinite(a) && isfinite(b) && m->better != METRIC_NEUTRAL)
                    dir = ((b > a) == (m->better == METRIC_HIGHER)) ? "better" : "worse";
                json_object_set_new(c, "change", json_string(dir));
                json_array_append_new(changes, c);
            }
            history_regressions(prev, cur, regs);
        }
        json_object_set_new(o, "changes", changes);
        json_object_set_new(o, "regressions", regs);
        json_array_append_new(out, o);
    }
    return out;
}
