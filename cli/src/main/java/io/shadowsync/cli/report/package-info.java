/**
 * {@code shadowsync report}: runs' metrics logs as one self-contained HTML page. {@link io.shadowsync.cli.report.RunData}
 * reads a run directory (its metrics log by record kind, summary and label) and says what is missing or cut off;
 * {@link io.shadowsync.cli.report.Timeline} turns a run's per-trainer records into the job's series;
 * {@link io.shadowsync.cli.report.Report} makes the charts (XChart, PNG, headless) and the page. See docs/report.md.
 */
package io.shadowsync.cli.report;
