/**
 * gpbo's C API: persistent Bayesian-optimization studies for schedulers and other programs
 * that embed gpbo through a C ABI (C, Go's cgo, Rust, Python's ctypes, ...).
 *
 * Conventions
 * - Every function that can fail returns an int status: GPBO_OK (0) or one of the
 *   GPBO_ERR_* codes below. No C++ exception ever leaves the library.
 * - After each call that returns a status, gpbo_last_error() holds that call's message on the
 *   calling thread: the error text after a failure, "" after a success.
 * - Every pointer argument must be non-NULL unless its comment says "may be NULL"; a NULL one
 *   is GPBO_ERR_INVALID_ARGUMENT with a message naming the argument.
 * - Out-parameters come last. On failure a pointer out-parameter is set to NULL (when it is not
 *   NULL itself), so it is always safe to free or close it afterwards.
 * - Spaces, options and results are JSON text (UTF-8). Strings returned through a `char**` are
 *   allocated with malloc and owned by the caller, who releases them with gpbo_free().
 * - Trials are JSON objects {"id", "state", "params", "value", "worker_id", "source",
 *   "created_at", "finished_at", "lease_deadline"}: "state" is "running", "complete", "failed"
 *   or "pruned"; "params" maps parameter names to numbers (float, int) or strings
 *   (categorical); "value" is a number or null; times are seconds since the Unix epoch (0 when
 *   not set). This is the output of the CLI's `gpbo ask` / `gpbo trials`.
 * - Handles are thread-safe: both stores serialize their calls, and several processes may use
 *   one SQLite file at once (each ask/tell is one transaction).
 *
 * The header is plain C (C89 syntax; <stdint.h> for int64_t, standard since C99) and C++
 * compatible.
 */
#ifndef GPBO_GPBO_H
#define GPBO_GPBO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The library version, "MAJOR.MINOR.PATCH"; also what gpbo_version() returns. */
#define GPBO_VERSION_MAJOR 0
#define GPBO_VERSION_MINOR 1
#define GPBO_VERSION_PATCH 0
#define GPBO_VERSION_STRING "0.1.0"

/** Status codes returned by the API. */
typedef enum gpbo_status {
  /** Success. */
  GPBO_OK = 0,
  /**
   * A malformed or out-of-range argument: a NULL pointer, bad JSON, an unknown option, a
   * non-finite value, an unknown state or direction, a bad study name, q < 1.
   */
  GPBO_ERR_INVALID_ARGUMENT = 1,
  /** The study or trial does not exist (or, for gpbo_study_best, no trial is complete). */
  GPBO_ERR_NOT_FOUND = 2,
  /**
   * The request contradicts what is stored: a study name that exists, a second tell with
   * another value, a heartbeat on a finished trial, a space with no point left to suggest.
   */
  GPBO_ERR_CONFLICT = 3,
  /** A numerical failure the library could not rescue (e.g. a GP fit). */
  GPBO_ERR_NUMERICAL = 4,
  /** The requested compute backend is not compiled in or has no device. */
  GPBO_ERR_BACKEND_UNAVAILABLE = 5,
  /** The store failed: unreadable, corrupt or newer-version database, I/O error. */
  GPBO_ERR_STORAGE = 6,
  /** Anything else (out of memory, a bug); the message says what. */
  GPBO_ERR_INTERNAL = 7
} gpbo_status;

/** A store of studies (opened from a URL). Opaque. */
typedef struct gpbo_storage gpbo_storage;
/** A handle on one study in a store. Opaque. */
typedef struct gpbo_study gpbo_study;

/** The library version, e.g. "0.1.0". Static storage: never free it. Never fails. */
const char* gpbo_version(void);

/**
 * The message of the last status-returning call made on this thread: the error text after a
 * failure, "" after a success. Thread-local: other threads' calls never change it. The pointer
 * is owned by the library and stays valid until this thread's next gpbo_* call. Never NULL.
 */
const char* gpbo_last_error(void);

/** Releases a string returned by this API. NULL is a no-op. */
void gpbo_free(char* s);

/**
 * Opens a store by URL: "sqlite:///abs/path/study.db" or "sqlite://relative/path.db" (the file
 * and its schema are created on first use), or "memory://" (a fresh store private to this
 * handle, gone when the last handle on it closes).
 * On success *out is a new handle the caller closes with gpbo_storage_close().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument, unknown scheme), GPBO_ERR_STORAGE (the
 * database cannot be opened or created, is not a gpbo database, or has a newer schema).
 */
int gpbo_storage_open(const char* url, gpbo_storage** out);

/**
 * Closes a store handle. Studies opened from it stay usable (they share the store) until they
 * are closed too. NULL is a no-op.
 */
void gpbo_storage_close(gpbo_storage* storage);

/**
 * Creates a study named `name` in `storage`.
 * `space_json`: the search space, e.g. {"params": [{"name": "lr", "type": "float", "low":
 * 1e-5, "high": 0.1, "log": true}, {"name": "layers", "type": "int", "low": 1, "high": 8},
 * {"name": "opt", "type": "categorical", "choices": ["sgd", "adam"]}]}.
 * `direction`: "minimize" or "maximize".
 * `options_json`: may be NULL (all defaults); else a JSON object with any of the study options
 * of the README's options table (the form `gpbo studies` prints), e.g. {"seed": 3, "n_initial":
 * 10, "acquisition": "ucb", "ucb_beta": 9, "kernel": "rbf", "device": "cpu", "score_precision":
 * "float", "trust_region": {"n_regions": 2}, "gp": {"n_starts": 5}, "optimizer":
 * {"raw_samples": 2048}, "lease_seconds": 600, "requeue_expired": true}. Unknown keys, values of
 * the wrong type or out of range are an error. A "direction" key must agree with `direction`.
 * On success *out is a new study handle the caller closes with gpbo_study_close().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument, bad name, malformed space or options,
 * unknown direction), GPBO_ERR_CONFLICT (a study with this name exists), GPBO_ERR_STORAGE.
 */
int gpbo_study_create(gpbo_storage* storage, const char* name, const char* space_json,
                      const char* direction, const char* options_json, gpbo_study** out);

/**
 * Creates a study like gpbo_study_create, warm-started from earlier studies (the README's "Warm
 * starts"). `warm_start_json`: a JSON array whose items are names of studies in `storage`, or
 * sources given inline: {"study": "label", "direction": "minimize", "observations":
 * [{"params": {...}, "value": 1.5}, ...]}. The sources' complete trials are copied into the new
 * study, matched to its space by parameter name.
 * Errors: those of gpbo_study_create, and GPBO_ERR_INVALID_ARGUMENT for malformed
 * `warm_start_json`, a missing source study, the new study named as its own source, or a source
 * that shares no parameter (or no observation) with the space.
 */
int gpbo_study_create_warm(gpbo_storage* storage, const char* name, const char* space_json,
                           const char* direction, const char* options_json,
                           const char* warm_start_json, gpbo_study** out);

/**
 * Opens the existing study `name` in `storage`.
 * On success *out is a new study handle the caller closes with gpbo_study_close().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND (no such study),
 * GPBO_ERR_STORAGE.
 */
int gpbo_study_open(gpbo_storage* storage, const char* name, gpbo_study** out);

/** Closes a study handle (the study itself stays in the store). NULL is a no-op. */
void gpbo_study_close(gpbo_study* study);

/**
 * Keeps this handle's model warm between its asks, as gpbo serve does (for a long-lived
 * process that holds the handle): the GP's hyperparameters and the Cholesky factor made with
 * them stay in memory, so an ask appends the trials completed since (O(n^2) each) instead of
 * refitting and factoring all of them; the hyperparameters are refitted on a background thread
 * once the complete trials have grown by `refit_growth` (a share of the last fit's size; 0.1 in
 * gpbo serve) or by `refit_every` trials (25), whichever comes first. The first model-based ask
 * fits in the foreground. Closing the handle waits for a running refit.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL study, refit_growth negative or not finite,
 * refit_every < 1).
 */
int gpbo_study_keep_model_warm(gpbo_study* study, double refit_growth, int refit_every);

/**
 * Suggests `q` points as RUNNING trials leased to `worker_id` (may be NULL: anonymous). A
 * worker that already holds running trials gets those back (lease renewed) instead of new
 * ones; expired leases are settled first. Fewer than q trials come back when fewer distinct
 * points are left.
 * On success *trials_json_out is {"trials": [trial, ...]} (see the conventions above), to be
 * released with gpbo_free().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument, q < 1), GPBO_ERR_CONFLICT (no point left
 * to suggest), GPBO_ERR_NOT_FOUND (the study was deleted), GPBO_ERR_NUMERICAL,
 * GPBO_ERR_BACKEND_UNAVAILABLE, GPBO_ERR_STORAGE.
 */
int gpbo_study_ask(gpbo_study* study, int q, const char* worker_id, char** trials_json_out);

/**
 * gpbo_study_ask with parameters pinned for this ask: `fixed_json` is a JSON object of
 * name: value, e.g. {"layers": 4} (NULL or {}: none). Every new trial carries those values
 * exactly and meets the space's constraints; the model still uses every trial.
 * Errors: those of gpbo_study_ask, and GPBO_ERR_INVALID_ARGUMENT for malformed JSON, an unknown
 * parameter or a value outside its bounds, grid or choices (nothing is written).
 */
int gpbo_study_ask_fixed(gpbo_study* study, int q, const char* worker_id, const char* fixed_json,
                         char** trials_json_out);

/**
 * Completes trial `trial_id` with the objective `value`, which must be finite (report a trial
 * that produced no value with gpbo_study_tell_state). Telling the same value again is a no-op.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL study, NaN or infinite value; nothing is written),
 * GPBO_ERR_NOT_FOUND (no such trial), GPBO_ERR_CONFLICT (the trial is complete with another
 * value, or failed or pruned), GPBO_ERR_STORAGE.
 */
int gpbo_study_tell(gpbo_study* study, int64_t trial_id, double value);

/**
 * Completes trial `trial_id` of a study with metrics (the "metrics" option: several objectives,
 * outcome constraints) with every metric's value, as a JSON object: {"acc": 0.93,
 * "latency_ms": 12.5}. The same values again are a no-op.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument, malformed JSON, a metric missing, unknown
 * or not finite; nothing is written), GPBO_ERR_NOT_FOUND, GPBO_ERR_CONFLICT (the trial finished
 * otherwise), GPBO_ERR_STORAGE.
 */
int gpbo_study_tell_values(gpbo_study* study, int64_t trial_id, const char* values_json);

/**
 * Marks trial `trial_id` as `state`: "failed" (or "fail") or "pruned". Repeating it is a no-op.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument, another state), GPBO_ERR_NOT_FOUND,
 * GPBO_ERR_CONFLICT (the trial finished otherwise), GPBO_ERR_STORAGE.
 */
int gpbo_study_tell_state(gpbo_study* study, int64_t trial_id, const char* state);

/**
 * Extends the lease of running trial `trial_id` by the study's lease_seconds from now.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL study), GPBO_ERR_NOT_FOUND, GPBO_ERR_CONFLICT (the
 * trial is not running, e.g. its lease already expired), GPBO_ERR_STORAGE.
 */
int gpbo_study_heartbeat(gpbo_study* study, int64_t trial_id);

/**
 * Reports running trial `trial_id`'s intermediate value `value` at `step` (an epoch, a number of
 * samples; steps strictly increase per trial) and renews its lease. On success *prune_out is 1
 * when the study's pruner (options "pruner": median, asha or none) says to stop the trial (then
 * tell it "pruned": it keeps its last intermediate value for the model), else 0. A repeat of the
 * trial's last (step, value) writes nothing. Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument,
 * a non-finite value, a negative step, a step not after the trial's last, a study with several
 * objectives; nothing is written), GPBO_ERR_NOT_FOUND, GPBO_ERR_CONFLICT (the trial is finished),
 * GPBO_ERR_STORAGE.
 */
int gpbo_study_report_value(gpbo_study* study, int64_t trial_id, int64_t step, double value,
                            int* prune_out);

/**
 * Queues a point for the next ask, e.g. {"lr": 0.01, "layers": 4, "opt": "adam"}: every
 * parameter of the space, each with a value of its type inside its bounds or choices, meeting
 * the space's linear constraints.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument, malformed JSON, a point not in the space or
 * outside its constraints; nothing is written), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_enqueue(gpbo_study* study, const char* params_json);

/**
 * Adds finished trials that ran elsewhere (an earlier history), all in one transaction:
 * `trials_json` is {"trials": [{"params": {...}, "value": 0.25}, {"params": {...}, "state":
 * "failed"}, ...]} (each with every parameter of the space; "value" for a complete trial,
 * "state" "failed" or "pruned" otherwise; optional "created_at"/"finished_at"; the JSON that
 * gpbo_study_trials returns reads back, its other keys ignored). They get the next ids and
 * source "imported".
 * On success *trials_json_out is {"trials": [trial, ...]}, the trials as stored, to be released
 * with gpbo_free().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument, malformed JSON, a point not in the space, a
 * non-finite value, a running trial; nothing is written), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_add_trials(gpbo_study* study, const char* trials_json, char** trials_json_out);

/**
 * The best complete trial (lowest value when minimizing, highest when maximizing; with outcome
 * constraints, the best feasible one).
 * On success *trial_json_out is one trial object, to be released with gpbo_free(); with drift
 * on it carries "drift" (see gpbo_study_drift).
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument; a study with several objectives, see
 * gpbo_study_pareto), GPBO_ERR_NOT_FOUND (no trial is complete (and feasible) yet, or no such
 * study), GPBO_ERR_STORAGE.
 */
int gpbo_study_best(gpbo_study* study, char** trial_json_out);

/**
 * How much compute the study used: {"trials", "complete", "pruned", "failed", "running",
 * "trial_seconds" (finished_at - created_at summed over finished trials, now - created_at over
 * running ones), "reporting" (trials with intermediate values), "steps" (their last steps,
 * summed), "steps_full" (reporting times the largest step any trial reported)}.
 * On success *cost_json_out is that object, to be released with gpbo_free().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_cost(gpbo_study* study, char** cost_json_out);

/**
 * The Pareto front of the feasible complete trials (several objectives; with one, the trials
 * tied for the best feasible value): {"objectives": ["acc", "latency_ms"], "reference_point":
 * [0.5, 100.0], "hypervolume": 12.5, "trials": [trial, ...]} (reference point and hypervolume
 * null with one objective), to be released with gpbo_free().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_pareto(gpbo_study* study, char** pareto_json_out);

/**
 * The study's append-only log, oldest first: every creation, suggestion, result, heartbeat,
 * expiry and enqueued point. The "ask" entry of a model-based suggestion records what the model
 * ran with ({"model": {"device", "strategy", "batch_method", "acquisition", "kernel",
 * "score_precision", "resident", "seconds"}}: "seconds" is {"load", "fit", "factor",
 * "acquisition"}, "resident" whether the factor was extended from an earlier ask's).
 * On success *log_json_out is {"log": [{"time", "event", "trial_id", "worker_id", "detail",
 * "writer", "seq", "prev_hash", "hash"}, ...]}, to be released with gpbo_free(). Each entry
 * carries the SHA-256 of the one before (prev_hash) and its own (hash): see gpbo_study_verify.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_log(gpbo_study* study, char** log_json_out);

/**
 * Checks the study's log (its hash chain: every entry's sequence number, prev_hash and hash)
 * and its trials against a replay of the log.
 * On success *report_json_out is {"ok": bool, "entries", "trials", "head": the last entry's
 * hash, "problem": null or {"kind", "position", "seq", "event", "trial_id", "field",
 * "message"}}, to be released with gpbo_free(). A tampered study is a success with "ok": false.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_verify(gpbo_study* study, char** report_json_out);

/**
 * The study's report: one self-contained HTML page (UTF-8; no script, no network access) that
 * says in sentences what the best configuration is and whether the study still improves, and
 * shows its progress, the parameters' relevance, slices of a model, all trials, the provenance
 * and the top trials (README, "The report").
 * On success *html_out is the page, to be released with gpbo_free().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_report(gpbo_study* study, char** html_out);

/**
 * Every trial of the study, ordered by id.
 * On success *trials_json_out is {"trials": [trial, ...]}, to be released with gpbo_free().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_trials(gpbo_study* study, char** trials_json_out);

/**
 * The ids of the complete trials that the last model-based ask left out of the model as
 * outliers (the study option "robust": values the GP found implausible; they stay stored).
 * On success *outliers_json_out is {"outliers": [id, ...]} (ascending), to be released with
 * gpbo_free().
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_outliers(gpbo_study* study, char** outliers_json_out);

/**
 * Drift (the study option "drift"): the re-evaluations of the incumbent judged so far and the
 * shifts among them (re-evaluations whose standardized residual against the model's prediction
 * exceeded drift.shift_threshold). On success *drift_json_out is {"mode", "shift_threshold",
 * "reevaluations", "checks": [{"trial", "z", "shift"}], "shifts": [id, ...]}, to be released
 * with gpbo_free(). gpbo_study_best's trial carries the same object as "drift" when drift is
 * on.
 * Errors: GPBO_ERR_INVALID_ARGUMENT (NULL argument), GPBO_ERR_NOT_FOUND, GPBO_ERR_STORAGE.
 */
int gpbo_study_drift(gpbo_study* study, char** drift_json_out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* GPBO_GPBO_H */
