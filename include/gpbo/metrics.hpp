#pragma once
/// What a study measures: one or more objectives, each minimized or maximized, and any number
/// of outcome constraints (a metric at most or at least a bound). A study that declares none is
/// the classic one: one objective, its value told as a number, `StudyOptions::direction`.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gpbo {

enum class Direction { kMinimize, kMaximize };
/// "minimize" (or "min") / "maximize" (or "max"). Throws InvalidArgument.
Direction parse_direction(const std::string& text);
std::string to_string(Direction d);

/// One objective: a metric to minimize or maximize.
struct Objective {
  std::string name;
  Direction direction = Direction::kMinimize;
  /// The hypervolume's reference point in this objective: its worst acceptable value
  /// (several objectives only). When unset: the bound of a constraint on this metric that
  /// limits its worse side (latency_ms <= 20 for a minimized latency), else inferred from the
  /// Pareto front (`reference_of`, `front_reference_point`).
  std::optional<double> reference;
};

/// The side of an outcome constraint: metric <= bound, or metric >= bound.
enum class Bound { kAtMost, kAtLeast };
/// "<=" / ">=". Throws InvalidArgument.
Bound parse_bound(const std::string& text);
std::string to_string(Bound b);

/// An outcome constraint: a trial is feasible when `metric` <= `bound` (or >=). The metric may
/// be an objective or a metric of its own, measured only to be constrained.
struct OutcomeConstraint {
  std::string metric;
  Bound side = Bound::kAtMost;
  double bound = 0.0;
};

/// The metrics of a study. Empty: the classic study (one objective, a plain value).
struct Metrics {
  std::vector<Objective> objectives;
  std::vector<OutcomeConstraint> constraints;

  bool empty() const { return objectives.empty() && constraints.empty(); }
  /// Several objectives (a Pareto front rather than one best value).
  bool multi_objective() const { return objectives.size() > 1; }
  /// Every metric a tell reports, each once: the objectives in order, then the metrics only
  /// constrained, in the order of their first constraint.
  std::vector<std::string> names() const;
  bool operator==(const Metrics& o) const;
  bool operator!=(const Metrics& o) const { return !(*this == o); }
};

/// Throws InvalidArgument unless a non-empty Metrics has at least one objective, names that are
/// non-empty and unique among the objectives, and finite bounds.
void check_metrics(const Metrics& metrics);

/// A trial's reported metrics, by name.
using MetricValues = std::map<std::string, double>;

/// The reference value of `metrics.objectives[j]` the user stated: its `reference`, else the
/// tightest bound of the constraints on the same metric that limit its worse side (`<=` for a
/// minimized objective, `>=` for a maximized one), else nullopt (the engine then infers one:
/// the Pareto front's worst value, 10% of the feasible values' range beyond it).
std::optional<double> reference_of(const Metrics& metrics, std::size_t j);

/// The total violation of `values`: the sum over the constraints of how far each is
/// exceeded (max(0, value - bound) for <=, max(0, bound - value) for >=), in the metrics' own
/// units; 0 when feasible, +inf when a constrained metric is missing.
double violation(const Metrics& metrics, const MetricValues& values);

/// Whether `values` meets every constraint of `metrics` (true when there are none).
bool feasible(const Metrics& metrics, const MetricValues& values);

/// The Metrics' JSON form: {"objectives": [{"name": "acc", "direction": "maximize",
/// "reference": 0.5}, ...] ("reference" optional),
/// "constraints": [{"metric": "latency_ms", "<=": 20.0}, ...]}; {} when empty.
std::string metrics_to_json(const Metrics& metrics);
/// Parses that form (checked with check_metrics). InvalidArgument when malformed.
Metrics metrics_from_json(const std::string& json);
/// Parses the CLI's forms: an objective "acc:maximize" (or "acc", minimized) and a constraint
/// "latency_ms<=20" (or ">="). InvalidArgument when malformed.
Objective parse_objective(const std::string& text);
OutcomeConstraint parse_constraint(const std::string& text);

}  // namespace gpbo
