// The C API (include/gpbo/gpbo.h) over PersistentStudy and Storage. Every entry point runs its
// body through capi::guard() (capi/guard.hpp): no exception crosses the C boundary.
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capi/guard.hpp"
#include "codec/metrics_json.hpp"
#include "codec/trial_json.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gpbo.h"
#include "gpbo/persistent_study.hpp"
#include "gpbo/report.hpp"
#include "gpbo/storage.hpp"
#include "service/study_json.hpp"
#include "service/warm_start_request.hpp"
#include "space/params_json.hpp"

struct gpbo_storage {
  std::shared_ptr<gpbo::Storage> storage;
};

struct gpbo_study {
  std::shared_ptr<gpbo::Storage> storage;
  gpbo::PersistentStudy study;
};

namespace {

using nlohmann::json;

using gpbo::capi::CApiError;
using gpbo::capi::guard;

void require(const void* p, const char* argument) {
  if (p == nullptr) {
    throw CApiError{GPBO_ERR_INVALID_ARGUMENT, std::string("argument '") + argument + "' is NULL"};
  }
}

std::string dump(const json& j) { return gpbo::json_text(j); }

/// A malloc'd copy of `s` for the caller to gpbo_free().
char* copy_out(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

std::string trials_json(const std::vector<gpbo::Trial>& trials) {
  return dump(gpbo::trials_to_json(trials));
}

/// The study's drift checks under its options (service::drift_to_json).
json drift_json(gpbo_study& study) {
  gpbo::StudyOptions options;
  gpbo::PersistenceOptions persistence;
  gpbo::study_options_from_json(study.study.info().options_json, &options, &persistence);
  return gpbo::service::drift_to_json(options.drift, study.study.drift_checks());
}

}  // namespace

std::string& gpbo::capi::last_error() {
  thread_local std::string message;
  return message;
}

extern "C" {

const char* gpbo_version(void) { return GPBO_VERSION_STRING; }

const char* gpbo_last_error(void) { return gpbo::capi::last_error().c_str(); }

void gpbo_free(char* s) { std::free(s); }

int gpbo_storage_open(const char* url, gpbo_storage** out) {
  if (out != nullptr) *out = nullptr;
  return guard("gpbo_storage_open", [&] {
    require(url, "url");
    require(out, "out");
    auto handle = std::make_unique<gpbo_storage>();
    handle->storage = gpbo::Storage::open(url);
    *out = handle.release();
  });
}

void gpbo_storage_close(gpbo_storage* storage) { delete storage; }

int gpbo_study_create(gpbo_storage* storage, const char* name, const char* space_json,
                      const char* direction, const char* options_json, gpbo_study** out) {
  return gpbo_study_create_warm(storage, name, space_json, direction, options_json, nullptr, out);
}

int gpbo_study_create_warm(gpbo_storage* storage, const char* name, const char* space_json,
                           const char* direction, const char* options_json,
                           const char* warm_start_json, gpbo_study** out) {
  if (out != nullptr) *out = nullptr;
  return guard(warm_start_json ? "gpbo_study_create_warm" : "gpbo_study_create", [&] {
    require(storage, "storage");
    require(name, "name");
    require(space_json, "space_json");
    require(direction, "direction");
    require(out, "out");
    const gpbo::Space space = gpbo::Space::from_json(space_json);
    gpbo::StudyOptions options;
    gpbo::PersistenceOptions persistence;
    if (options_json != nullptr) {
      gpbo::study_options_from_json(options_json, &options, &persistence);
      // The direction may also be in the options, but not with another value.
      if (json::parse(options_json).contains("direction") &&
          gpbo::parse_direction(direction) != options.direction) {
        throw gpbo::InvalidArgument("the direction is given twice, with different values");
      }
    }
    gpbo::set_direction(&options, gpbo::parse_direction(direction));
    std::vector<gpbo::WarmStartSource> sources;
    if (warm_start_json != nullptr) {
      const json w = json::parse(warm_start_json, nullptr, false);
      if (w.is_discarded()) throw gpbo::InvalidArgument("warm_start_json: malformed JSON");
      sources = gpbo::service::resolve_warm_start(*storage->storage, name,
                                                  gpbo::service::warm_start_request_from_json(w));
    }
    gpbo::PersistentStudy study =
        gpbo::PersistentStudy::create(storage->storage, name, space, options, persistence, sources);
    *out = new gpbo_study{storage->storage, std::move(study)};
  });
}

int gpbo_study_open(gpbo_storage* storage, const char* name, gpbo_study** out) {
  if (out != nullptr) *out = nullptr;
  return guard("gpbo_study_open", [&] {
    require(storage, "storage");
    require(name, "name");
    require(out, "out");
    *out = new gpbo_study{storage->storage, gpbo::PersistentStudy(storage->storage, name)};
  });
}

void gpbo_study_close(gpbo_study* study) { delete study; }

int gpbo_study_keep_model_warm(gpbo_study* study, double refit_growth, int refit_every) {
  return guard("gpbo_study_keep_model_warm", [&] {
    require(study, "study");
    gpbo::WarmModelOptions options;
    options.refit_growth = refit_growth;
    options.refit_every = refit_every;
    study->study.keep_model_warm(options);
  });
}

int gpbo_study_ask(gpbo_study* study, int q, const char* worker_id, char** trials_json_out) {
  if (trials_json_out != nullptr) *trials_json_out = nullptr;
  return guard("gpbo_study_ask", [&] {
    require(study, "study");
    require(trials_json_out, "trials_json_out");
    const std::string text =
        trials_json(study->study.ask(q, worker_id != nullptr ? worker_id : ""));
    *trials_json_out = copy_out(text);
  });
}

int gpbo_study_ask_fixed(gpbo_study* study, int q, const char* worker_id, const char* fixed_json,
                         char** trials_json_out) {
  if (trials_json_out != nullptr) *trials_json_out = nullptr;
  return guard("gpbo_study_ask_fixed", [&] {
    require(study, "study");
    require(trials_json_out, "trials_json_out");
    gpbo::Params fixed;
    if (fixed_json != nullptr) {
      json j;
      try {
        j = json::parse(fixed_json);
      } catch (const json::exception& e) {
        throw gpbo::InvalidArgument(std::string("fixed_json: malformed JSON: ") + e.what());
      }
      if (!j.is_object()) {
        throw gpbo::InvalidArgument("fixed_json must be a JSON object of name: value, got " +
                                    j.dump());
      }
      const gpbo::Space space = gpbo::Space::from_json(study->study.info().space_json);
      fixed = gpbo::decode_params(j, &space);
    }
    const std::string text =
        trials_json(study->study.ask(q, worker_id != nullptr ? worker_id : "", fixed));
    *trials_json_out = copy_out(text);
  });
}

int gpbo_study_tell(gpbo_study* study, int64_t trial_id, double value) {
  return guard("gpbo_study_tell", [&] {
    require(study, "study");
    study->study.tell(trial_id, value);
  });
}

int gpbo_study_tell_values(gpbo_study* study, int64_t trial_id, const char* values_json) {
  return guard("gpbo_study_tell_values", [&] {
    require(study, "study");
    require(values_json, "values_json");
    const json j = json::parse(values_json, nullptr, false);
    if (j.is_discarded()) throw gpbo::InvalidArgument("values_json: malformed JSON");
    study->study.tell(trial_id, gpbo::metric_values_from_json(j));
  });
}

int gpbo_study_tell_state(gpbo_study* study, int64_t trial_id, const char* state) {
  return guard("gpbo_study_tell_state", [&] {
    require(study, "study");
    require(state, "state");
    const std::string s = state;
    study->study.tell_state(trial_id, gpbo::parse_trial_state(s));
  });
}

int gpbo_study_heartbeat(gpbo_study* study, int64_t trial_id) {
  return guard("gpbo_study_heartbeat", [&] {
    require(study, "study");
    study->study.heartbeat(trial_id);
  });
}

int gpbo_study_report_value(gpbo_study* study, int64_t trial_id, int64_t step, double value,
                            int* prune_out) {
  if (prune_out != nullptr) *prune_out = 0;
  return guard("gpbo_study_report_value", [&] {
    require(study, "study");
    require(prune_out, "prune_out");
    *prune_out = study->study.report(trial_id, step, value).prune ? 1 : 0;
  });
}

int gpbo_study_enqueue(gpbo_study* study, const char* params_json) {
  return guard("gpbo_study_enqueue", [&] {
    require(study, "study");
    require(params_json, "params_json");
    json j;
    try {
      j = json::parse(params_json);
    } catch (const json::exception& e) {
      throw gpbo::InvalidArgument(std::string("params_json: malformed JSON: ") + e.what());
    }
    const gpbo::Space space = gpbo::Space::from_json(study->study.info().space_json);
    study->study.enqueue(gpbo::params_from_json(j, space));
  });
}

int gpbo_study_add_trials(gpbo_study* study, const char* finished_json, char** trials_json_out) {
  if (trials_json_out != nullptr) *trials_json_out = nullptr;
  return guard("gpbo_study_add_trials", [&] {
    require(study, "study");
    require(finished_json, "trials_json");
    require(trials_json_out, "trials_json_out");
    json j;
    try {
      j = json::parse(finished_json);
    } catch (const json::exception& e) {
      throw gpbo::InvalidArgument(std::string("trials_json: malformed JSON: ") + e.what());
    }
    const gpbo::Space space = gpbo::Space::from_json(study->study.info().space_json);
    *trials_json_out =
        copy_out(trials_json(study->study.add_trials(gpbo::finished_trials_from_json(j, &space))));
  });
}

int gpbo_study_best(gpbo_study* study, char** trial_json_out) {
  if (trial_json_out != nullptr) *trial_json_out = nullptr;
  return guard("gpbo_study_best", [&] {
    require(study, "study");
    require(trial_json_out, "trial_json_out");
    const std::optional<gpbo::Trial> best = study->study.best();
    if (!best) {
      throw gpbo::NotFound("study '" + study->study.name() + "' has no complete (feasible) trial");
    }
    json out = gpbo::trial_to_json(*best);
    json d = drift_json(*study);
    if (d.at("mode") != "off") out["drift"] = std::move(d);
    *trial_json_out = copy_out(dump(out));
  });
}

int gpbo_study_drift(gpbo_study* study, char** drift_json_out) {
  if (drift_json_out != nullptr) *drift_json_out = nullptr;
  return guard("gpbo_study_drift", [&] {
    require(study, "study");
    require(drift_json_out, "drift_json_out");
    *drift_json_out = copy_out(dump(drift_json(*study)));
  });
}

int gpbo_study_cost(gpbo_study* study, char** cost_json_out) {
  if (cost_json_out != nullptr) *cost_json_out = nullptr;
  return guard("gpbo_study_cost", [&] {
    require(study, "study");
    require(cost_json_out, "cost_json_out");
    *cost_json_out = copy_out(dump(gpbo::service::cost_to_json(study->study.cost())));
  });
}

int gpbo_study_pareto(gpbo_study* study, char** pareto_json_out) {
  if (pareto_json_out != nullptr) *pareto_json_out = nullptr;
  return guard("gpbo_study_pareto", [&] {
    require(study, "study");
    require(pareto_json_out, "pareto_json_out");
    gpbo::StudyOptions options;
    gpbo::PersistenceOptions persistence;
    gpbo::study_options_from_json(study->study.info().options_json, &options, &persistence);
    *pareto_json_out =
        copy_out(dump(gpbo::service::pareto_to_json(study->study.pareto(), options.metrics)));
  });
}

int gpbo_study_outliers(gpbo_study* study, char** outliers_json_out) {
  if (outliers_json_out != nullptr) *outliers_json_out = nullptr;
  return guard("gpbo_study_outliers", [&] {
    require(study, "study");
    require(outliers_json_out, "outliers_json_out");
    *outliers_json_out = copy_out(dump(json{{"outliers", study->study.outliers()}}));
  });
}

int gpbo_study_log(gpbo_study* study, char** log_json_out) {
  if (log_json_out != nullptr) *log_json_out = nullptr;
  return guard("gpbo_study_log", [&] {
    require(study, "study");
    require(log_json_out, "log_json_out");
    *log_json_out = copy_out(dump(gpbo::service::log_to_json(study->study.log())));
  });
}

int gpbo_study_verify(gpbo_study* study, char** report_json_out) {
  if (report_json_out != nullptr) *report_json_out = nullptr;
  return guard("gpbo_study_verify", [&] {
    require(study, "study");
    require(report_json_out, "report_json_out");
    *report_json_out = copy_out(dump(gpbo::service::verify_report_to_json(study->study.verify())));
  });
}

int gpbo_study_report(gpbo_study* study, char** html_out) {
  if (html_out != nullptr) *html_out = nullptr;
  return guard("gpbo_study_report", [&] {
    require(study, "study");
    require(html_out, "html_out");
    *html_out = copy_out(gpbo::render_report(study->study));
  });
}

int gpbo_study_trials(gpbo_study* study, char** trials_json_out) {
  if (trials_json_out != nullptr) *trials_json_out = nullptr;
  return guard("gpbo_study_trials", [&] {
    require(study, "study");
    require(trials_json_out, "trials_json_out");
    *trials_json_out = copy_out(trials_json(study->study.trials()));
  });
}

}  // extern "C"
