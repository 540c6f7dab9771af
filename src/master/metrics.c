/* metrics.c — GET /metrics in the Prometheus text exposition format
 * (version 0.0.4): the queue from the store (jobs by state, workers by
 * state, the last minute's throughput and run times, the oldest waiting
 * job) and this master process's own request counters. The store's
 * figures are the same whichever master is asked; the counters are per
 * process. */
#include "master/master_internal.h"
#include "common/buf.h"

#include <stdio.h>

#define WINDOW_S 60

static void family(pyti_buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_handle(pyti_master *m, const master_request *req, master_response *resp)
{
    (void)req;
    pyti_error err;
    pyti_store *s = master_store_get(m, &err);
    store_metrics mt;
    pyti_status rc = s ? store_metrics_get(s, WINDOW_S, &mt, &err) : err.code;
    master_store_put(m, s);
    if (rc != PYTI_OK) {
        master_response_pyti_error(resp, &err);
        return;
    }
    pyti_buf b = PYTI_BUF_INIT;
    family(&b, "pyti_jobs", "gauge", "Jobs in the queue by state.");
    for (int i = 0; i < STORE_JOB_NSTATES; i++)
        buf_printf(&b, "pyti_jobs{state=\"%s\"} %lld\n", store_job_state_name((store_job_state)i),
                   mt.jobs[i]);
    family(&b, "pyti_workers", "gauge", "Registered workers by state.");
    buf_printf(&b, "pyti_workers{state=\"idle\"} %lld\n", mt.workers_idle);
    buf_printf(&b, "pyti_workers{state=\"busy\"} %lld\n", mt.workers_busy);
    buf_printf(&b, "pyti_workers{state=\"draining\"} %lld\n", mt.workers_draining);
    buf_printf(&b, "pyti_workers{state=\"gone\"} %lld\n", mt.workers_gone);
    family(&b, "pyti_workers_online", "gauge", "Workers heard from recently (not gone).");
    buf_printf(&b, "pyti_workers_online %lld\n",
               mt.workers_idle + mt.workers_busy + mt.workers_draining);
    family(&b, "pyti_jobs_done_per_second", "gauge",
           "Jobs that got their result per second, over the last minute.");
    buf_printf(&b, "pyti_jobs_done_per_second %.6g\n", (double)mt.done_recent / WINDOW_S);
    family(&b, "pyti_jobs_failed_per_second", "gauge",
           "Jobs that failed for good per second, over the last minute.");
    buf_printf(&b, "pyti_jobs_failed_per_second %.6g\n", (double)mt.failed_recent / WINDOW_S);
    family(&b, "pyti_job_duration_seconds", "summary",
           "Run time (lease to result) of the jobs done in the last minute.");
    buf_printf(&b, "pyti_job_duration_seconds{quantile=\"0.5\"} %.6g\n", mt.duration_p50_s);
    buf_printf(&b, "pyti_job_duration_seconds{quantile=\"0.9\"} %.6g\n", mt.duration_p90_s);
    buf_printf(&b, "pyti_job_duration_seconds{quantile=\"0.99\"} %.6g\n", mt.duration_p99_s);
    buf_printf(&b, "pyti_job_duration_seconds_sum %.6g\n", mt.duration_sum_s);
    buf_printf(&b, "pyti_job_duration_seconds_count %lld\n", mt.done_recent);
    family(&b, "pyti_oldest_queued_job_seconds", "gauge",
           "Age of the oldest job waiting to be claimed.");
    buf_printf(&b, "pyti_oldest_queued_job_seconds %.6g\n", mt.oldest_queued_s);

    pthread_mutex_lock(&m->stats_lock);
    unsigned long long req_total = m->requests_total, claims = m->claims_total,
                       results = m->results_total, submits = m->submits_total,
                       uploads = m->uploads_total, by_class[6];
    for (int i = 0; i < 6; i++)
        by_class[i] = m->responses[i];
    pthread_mutex_unlock(&m->stats_lock);
    family(&b, "pyti_master_http_responses_total", "counter",
           "HTTP responses of this master process by status class.");
    for (int i = 1; i <= 5; i++)
        buf_printf(&b, "pyti_master_http_responses_total{code=\"%dxx\"} %llu\n", i, by_class[i]);
    family(&b, "pyti_master_http_requests_total", "counter",
           "HTTP requests answered by this master process.");
    buf_printf(&b, "pyti_master_http_requests_total %llu\n", req_total);
    family(&b, "pyti_master_leases_total", "counter", "Jobs leased to workers by this master.");
    buf_printf(&b, "pyti_master_leases_total %llu\n", claims);
    family(&b, "pyti_master_results_total", "counter",
           "Results (reports) received by this master.");
    buf_printf(&b, "pyti_master_results_total %llu\n", results);
    family(&b, "pyti_master_submits_total", "counter",
           "Jobs submitted through the API by this master.");
    buf_printf(&b, "pyti_master_submits_total %llu\n", submits);
    family(&b, "pyti_master_uploads_total", "counter",
           "Distribution files uploaded to this master (twine, API, drop directory).");
    buf_printf(&b, "pyti_master_uploads_total %llu\n", uploads);
    buf_reset(&resp->body);
    buf_append(&resp->body, b.data ? b.data : "", b.len);
    buf_free(&b);
    resp->status = 200;
    snprintf(resp->content_type, sizeof resp->content_type, "text/plain; version=0.0.4");
}
