#pragma once
// The JSON form of a trial that every front door prints and reads (CLI, HTTP, C API):
// {"id", "state", "params", "value" (null until complete), "worker_id", "source",
//  "created_at", "finished_at", "lease_deadline"}, and "values" ({"metric": value, ...}) for a
// complete trial of a study with metrics.

#include <nlohmann/json.hpp>
#include <vector>

#include "gpbo/space.hpp"
#include "gpbo/trial.hpp"

namespace gpbo {

/// A trial's intermediate values: [[step, value], ...], steps ascending (also the stores' form).
nlohmann::json intermediate_to_json(const std::vector<IntermediateValue>& values);
/// Reads that form back; InvalidArgument unless each item is [integer step >= 0, finite number]
/// and the steps strictly increase.
std::vector<IntermediateValue> intermediate_from_json(const nlohmann::json& j);

nlohmann::json trial_to_json(const Trial& t);
/// {"trials": [...]}
nlohmann::json trials_to_json(const std::vector<Trial>& trials);
/// Reads trial_to_json's form back without the space (params typed by their JSON: trial_to_json
/// writes a float with a fraction or an exponent, so this is exact). InvalidArgument if
/// malformed.
Trial trial_from_json(const nlohmann::json& j);
/// Reads {"trials": [...]}; InvalidArgument if malformed.
std::vector<Trial> trials_from_json(const nlohmann::json& j);

/// Finished trials to add to a study (an earlier history): {"trials": [{"params": {...},
/// "value": 0.5}, {"params": {...}, "state": "failed"}, ...]}. Each needs "params" and either a
/// "value" (complete; or "values", an object of metric values, in a study with metrics) or a
/// "state" ("complete" with a value, "failed", "pruned"); "created_at" and "finished_at" are kept
/// when given; every other key (the rest of trial_to_json's form, so `gpbo export -f json` output
/// reads back) is ignored. Params are typed by `space` when given. InvalidArgument naming the trial
/// when malformed.
std::vector<Trial> finished_trials_from_json(const nlohmann::json& j, const Space* space);
/// The same form, written.
nlohmann::json finished_trials_to_json(const std::vector<Trial>& trials);

}  // namespace gpbo
