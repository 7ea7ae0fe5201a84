// The metrics of a study: the names a tell reports, the checks, feasibility and the CLI's forms
// ("acc:maximize", "latency_ms<=20"). The JSON form is in src/codec/metrics_json.cpp.
#include "gpbo/metrics.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <string>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

/// A whole finite number ("20", "-1.5e3"); InvalidArgument otherwise.
double parse_bound_value(const std::string& text, const std::string& what) {
  const std::string t = trim(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || errno == ERANGE || !std::isfinite(v) ||
      t.find_first_of("xXnN") != std::string::npos) {
    throw InvalidArgument(what + ": the bound '" + text + "' is not a finite number");
  }
  return v;
}

}  // namespace

std::vector<std::string> Metrics::names() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const Objective& o : objectives) {
    if (seen.insert(o.name).second) out.push_back(o.name);
  }
  for (const OutcomeConstraint& c : constraints) {
    if (seen.insert(c.metric).second) out.push_back(c.metric);
  }
  return out;
}

bool Metrics::operator==(const Metrics& o) const {
  if (objectives.size() != o.objectives.size() || constraints.size() != o.constraints.size()) {
    return false;
  }
  for (std::size_t i = 0; i < objectives.size(); ++i) {
    if (objectives[i].name != o.objectives[i].name ||
        objectives[i].direction != o.objectives[i].direction ||
        objectives[i].reference != o.objectives[i].reference) {
      return false;
    }
  }
  for (std::size_t i = 0; i < constraints.size(); ++i) {
    const OutcomeConstraint &a = constraints[i], &b = o.constraints[i];
    if (a.metric != b.metric || a.side != b.side || a.bound != b.bound) return false;
  }
  return true;
}

void check_metrics(const Metrics& m) {
  if (m.empty()) return;
  if (m.objectives.empty()) {
    throw InvalidArgument("metrics: a study with constraints needs at least one objective");
  }
  std::set<std::string> names;
  for (const Objective& o : m.objectives) {
    if (o.name.empty()) throw InvalidArgument("metrics: an objective has no name");
    if (!names.insert(o.name).second) {
      throw InvalidArgument("metrics: the objective '" + o.name + "' is declared twice");
    }
    if (o.reference && !std::isfinite(*o.reference)) {
      throw InvalidArgument("metrics: the reference point of '" + o.name + "' must be finite");
    }
  }
  for (const OutcomeConstraint& c : m.constraints) {
    if (c.metric.empty()) throw InvalidArgument("metrics: a constraint names no metric");
    if (!std::isfinite(c.bound)) {
      throw InvalidArgument("metrics: the bound of the constraint on '" + c.metric +
                            "' must be finite");
    }
  }
}

std::optional<double> reference_of(const Metrics& m, std::size_t j) {
  const Objective& o = m.objectives.at(j);
  if (o.reference) return o.reference;
  const Bound worse_side = o.direction == Direction::kMinimize ? Bound::kAtMost : Bound::kAtLeast;
  std::optional<double> ref;
  for (const OutcomeConstraint& c : m.constraints) {
    if (c.metric != o.name || c.side != worse_side) continue;
    // The tightest: the smallest upper bound, the largest lower bound.
    if (!ref || (worse_side == Bound::kAtMost ? c.bound < *ref : c.bound > *ref)) ref = c.bound;
  }
  return ref;
}

double violation(const Metrics& m, const MetricValues& values) {
  double total = 0.0;
  for (const OutcomeConstraint& c : m.constraints) {
    const auto it = values.find(c.metric);
    if (it == values.end()) return std::numeric_limits<double>::infinity();
    total += std::max(0.0, c.side == Bound::kAtMost ? it->second - c.bound : c.bound - it->second);
  }
  return total;
}

bool feasible(const Metrics& m, const MetricValues& values) {
  for (const OutcomeConstraint& c : m.constraints) {
    const auto it = values.find(c.metric);
    if (it == values.end()) return false;
    if (c.side == Bound::kAtMost ? !(it->second <= c.bound) : !(it->second >= c.bound)) {
      return false;
    }
  }
  return true;
}

Objective parse_objective(const std::string& text) {
  Objective o;
  const auto colon = text.rfind(':');
  o.name = trim(colon == std::string::npos ? text : text.substr(0, colon));
  if (colon != std::string::npos) o.direction = parse_direction(trim(text.substr(colon + 1)));
  if (o.name.empty()) {
    throw InvalidArgument("objective '" + text + "': expected NAME or NAME:minimize|maximize");
  }
  return o;
}

OutcomeConstraint parse_constraint(const std::string& text) {
  for (const char* op : {"<=", ">="}) {
    const auto at = text.find(op);
    if (at == std::string::npos) continue;
    OutcomeConstraint c;
    c.metric = trim(text.substr(0, at));
    c.side = parse_bound(op);
    c.bound = parse_bound_value(text.substr(at + 2), "constraint '" + text + "'");
    if (c.metric.empty()) throw InvalidArgument("constraint '" + text + "': no metric named");
    return c;
  }
  throw InvalidArgument("constraint '" + text + "': expected METRIC<=BOUND or METRIC>=BOUND");
}

}  // namespace gpbo
