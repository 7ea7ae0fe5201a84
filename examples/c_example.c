/* gpbo from C: a persistent study in a SQLite file, driven by ask/tell through the C API.
 *
 *   example_c [path.db]     (default: c_example.db)
 *
 * Running it again continues the same study (create reports GPBO_ERR_CONFLICT and the program
 * opens the study instead). Built with the project and run by ctest (examples.c_api). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpbo/gpbo.h"

static const char* const kSpace =
    "{\"params\": ["
    "{\"name\": \"x\", \"type\": \"float\", \"low\": -2.0, \"high\": 2.0},"
    "{\"name\": \"y\", \"type\": \"float\", \"low\": -2.0, \"high\": 2.0}]}";

/* The objective: a quadratic bowl with its minimum 0.5 at (0.3, -0.7). */
static double objective(double x, double y) {
  return (x - 0.3) * (x - 0.3) + 2.0 * (y + 0.7) * (y + 0.7) + 0.5;
}

static int report(const char* what, int status) {
  fprintf(stderr, "%s failed with status %d: %s\n", what, status, gpbo_last_error());
  return 1;
}

/* The number after "key": at or after `from` in a JSON text; 0 if absent. A real program would use
 * a JSON library; the API's output is compact JSON, so a key search suffices here. */
static int find_number(const char* from, const char* key, double* out) {
  char pattern[64];
  const char* at;
  char* end;
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  at = strstr(from, pattern);
  if (at == NULL) return 0;
  *out = strtod(at + strlen(pattern), &end);
  return end != at + strlen(pattern);
}

/* Reads the next trial of a {"trials": [...]} text, starting at *cursor; advances it. */
static int next_trial(const char** cursor, int64_t* id, double* x, double* y) {
  const char* params;
  const char* trial = strstr(*cursor, "\"id\":"); /* keys come sorted: "id" before "params" */
  double id_value;
  if (trial == NULL) return 0;
  params = strstr(trial, "\"params\":");
  if (params == NULL || !find_number(trial, "id", &id_value) || !find_number(params, "x", x) ||
      !find_number(params, "y", y)) {
    return 0;
  }
  *id = (int64_t)id_value;
  *cursor = params + 1;
  return 1;
}

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "c_example.db";
  char url[4096];
  gpbo_storage* storage = NULL;
  gpbo_study* study = NULL;
  char* json = NULL;
  int status;
  int round;
  int told = 0;
  double best_value = 0.0;
  int failed = 0;

  printf("gpbo %s\n", gpbo_version());
  snprintf(url, sizeof url, "sqlite://%s", path);
  status = gpbo_storage_open(url, &storage);
  if (status != GPBO_OK) return report("gpbo_storage_open", status);

  status = gpbo_study_create(storage, "c_example", kSpace, "minimize",
                             "{\"seed\": 7, \"n_initial\": 6}", &study);
  if (status == GPBO_ERR_CONFLICT) {
    printf("study c_example exists; continuing it\n");
    status = gpbo_study_open(storage, "c_example", &study);
  } else if (status == GPBO_OK) {
    /* A first guess, evaluated before the initial design. */
    status = gpbo_study_enqueue(study, "{\"x\": 0.0, \"y\": 0.0}");
  }
  if (status != GPBO_OK) {
    failed = report("creating or opening the study", status);
    goto done;
  }

  for (round = 0; round < 15; ++round) {
    const char* cursor;
    int64_t id;
    double x;
    double y;
    status = gpbo_study_ask(study, 1, "c-example", &json);
    if (status != GPBO_OK) {
      failed = report("gpbo_study_ask", status);
      goto done;
    }
    cursor = json;
    while (next_trial(&cursor, &id, &x, &y)) {
      const double value = objective(x, y);
      status = gpbo_study_tell(study, id, value);
      if (status != GPBO_OK) {
        failed = report("gpbo_study_tell", status);
        goto done;
      }
      ++told;
    }
    gpbo_free(json);
    json = NULL;
  }
  if (told < 15) {
    fprintf(stderr, "only %d trials were told\n", told);
    failed = 1;
    goto done;
  }

  status = gpbo_study_best(study, &json);
  if (status != GPBO_OK) {
    failed = report("gpbo_study_best", status);
    goto done;
  }
  printf("best: %s\n", json);
  if (!find_number(json, "value", &best_value) || !(best_value < 1.0)) {
    fprintf(stderr, "unexpected best value %g\n", best_value);
    failed = 1;
  }
  gpbo_free(json);
  json = NULL;

  /* An error path: telling a trial that does not exist. */
  status = gpbo_study_tell(study, INT64_C(1000000000), 1.0);
  if (status != GPBO_ERR_NOT_FOUND || gpbo_last_error()[0] == '\0') {
    fprintf(stderr, "telling an unknown trial gave status %d (%s)\n", status, gpbo_last_error());
    failed = 1;
  } else {
    printf("unknown trial, as expected: %s\n", gpbo_last_error());
  }

done:
  gpbo_free(json);
  gpbo_study_close(study);
  gpbo_storage_close(storage);
  return failed;
}
