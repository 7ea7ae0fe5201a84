#include "engine/tell.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "codec/metrics_json.hpp"
#include "common/json_text.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

/// A trial that is already finished: Conflict, or nothing when `skip_if_finished`.
bool finished(const Trial& t, bool skip_if_finished) {
  if (skip_if_finished) return false;
  throw Conflict(already_finished(t));
}

}  // namespace

void check_value(double value) {
  if (!std::isfinite(value)) {
    throw InvalidArgument(
        "tell: the value must be a finite number (report a trial that produced none as "
        "failed)");
  }
}

void check_final_state(TrialState state) {
  if (state != TrialState::kFailed && state != TrialState::kPruned) {
    throw InvalidArgument("tell: the state must be failed or pruned, not " + to_string(state));
  }
}

std::string already_finished(const Trial& t) {
  std::string m = "trial " + std::to_string(t.id) + " is already " + to_string(t.state);
  if (!t.values.empty()) {
    m += " with values " + json_text(metric_values_to_json(t.values));
  } else if (t.value) {
    m += " with value " + nlohmann::json(*t.value).dump();
  }
  return m;
}

void check_values(const Metrics& metrics, const MetricValues& values) {
  const std::vector<std::string> names =
      metrics.empty() ? std::vector<std::string>{kValueMetric} : metrics.names();
  std::string expected;
  for (const std::string& n : names) expected += (expected.empty() ? "'" : ", '") + n + "'";
  for (const std::string& n : names) {
    const auto it = values.find(n);
    if (it == values.end()) {
      throw InvalidArgument("tell: the value of '" + n + "' is missing (the study measures " +
                            expected + "; report a trial that produced none as failed)");
    }
    if (!std::isfinite(it->second)) {
      throw InvalidArgument("tell: the value of '" + n +
                            "' must be a finite number (report a trial that produced none as "
                            "failed)");
    }
  }
  for (const auto& [name, v] : values) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw InvalidArgument("tell: the study measures no metric '" + name + "' (it measures " +
                            expected + ")");
    }
  }
}

MetricValues values_of(const Metrics& metrics, double value) {
  if (metrics.empty()) return {{kValueMetric, value}};
  const std::vector<std::string> names = metrics.names();
  if (names.size() != 1) {
    std::string all;
    for (const std::string& n : names) all += (all.empty() ? "'" : ", '") + n + "'";
    throw InvalidArgument("tell: the study measures " + all +
                          "; tell every metric's value (values), not one value");
  }
  return {{names.front(), value}};
}

bool apply_values(Trial* t, const Metrics& metrics, const MetricValues& values,
                  bool skip_if_finished, double now) {
  check_values(metrics, values);
  if (metrics.empty()) return apply_value(t, values.at(kValueMetric), skip_if_finished, now);
  if (t->state == TrialState::kComplete && t->values == values) return false;
  if (t->state != TrialState::kRunning) return finished(*t, skip_if_finished);
  t->state = TrialState::kComplete;
  t->values = values;
  if (!metrics.multi_objective()) t->value = values.at(metrics.objectives.front().name);
  t->finished_at = now;
  return true;
}

bool apply_value(Trial* t, double value, bool skip_if_finished, double now) {
  check_value(value);
  if (t->state == TrialState::kComplete && t->value && *t->value == value) return false;
  if (t->state != TrialState::kRunning) return finished(*t, skip_if_finished);
  t->state = TrialState::kComplete;
  t->value = value;
  t->finished_at = now;
  return true;
}

bool apply_state(Trial* t, TrialState state, bool skip_if_finished, double now) {
  check_final_state(state);
  if (t->state == state) return false;
  if (t->state != TrialState::kRunning) return finished(*t, skip_if_finished);
  t->state = state;
  t->finished_at = now;
  // What the model learns from a pruned trial: its last value (Optuna's GPSampler does the same).
  if (state == TrialState::kPruned && !t->intermediate.empty()) {
    t->value = t->intermediate.back().value;
  }
  return true;
}

bool apply_report(Trial* t, std::int64_t step, double value) {
  if (!std::isfinite(value)) {
    throw InvalidArgument("report: the intermediate value must be a finite number");
  }
  if (step < 0) {
    throw InvalidArgument("report: the step must be >= 0, got " + std::to_string(step));
  }
  if (t->state != TrialState::kRunning) {
    throw Conflict(already_finished(*t) + ": intermediate values are reported while it runs");
  }
  if (!t->intermediate.empty()) {
    const IntermediateValue& last = t->intermediate.back();
    if (last.step == step && last.value == value) return false;
    if (step <= last.step) {
      throw InvalidArgument("report: trial " + std::to_string(t->id) + " already reported step " +
                            std::to_string(last.step) + "; steps must strictly increase, got " +
                            std::to_string(step));
    }
  }
  t->intermediate.push_back({step, value});
  return true;
}

void check_reportable(const Metrics& metrics) {
  if (metrics.multi_objective()) {
    throw InvalidArgument(
        "report: intermediate values are one objective's; this study has several objectives");
  }
}

}  // namespace gpbo
