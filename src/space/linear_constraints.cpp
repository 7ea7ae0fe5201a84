/// The restrictions of a space that narrow its suggestions without changing its encoding: linear
/// inequality constraints between numeric parameters, and fixed values. Both act through
/// Space::snap, which every suggestion path (initial design, candidate sets, trust regions)
/// already calls, so that every point a study suggests is admitted.
#include "space/linear_constraints.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "gpbo/error.hpp"
#include "space/params_json.hpp"

namespace gpbo {
namespace {

using Json = nlohmann::json;

/// Random points the search for a feasible point tries after the centre and the corners.
constexpr int kFeasibleSamples = 2048;
/// Bisection steps of pull_toward (the segment is resolved to 2^-40 of its length).
constexpr int kPullSteps = 40;
/// Relative tolerance for points given by users (enqueue): their sums may be taken in
/// another order than ours.
constexpr double kUserTol = 1e-9;

std::string where(std::size_t k) { return "constraints[" + std::to_string(k) + "]"; }

std::string num(double x) { return to_string(ParamValue(x)); }

}  // namespace

Space& Space::add_constraint(const LinearConstraint& c) {
  const std::string at = where(constraints_.size());
  if (c.terms.empty()) throw InvalidArgument(at + ": \"terms\" must name at least one parameter");
  for (const auto& [name, coef] : c.terms) {
    const auto it = std::find_if(params_.begin(), params_.end(),
                                 [&](const ParamSpec& s) { return s.name == name; });
    if (it == params_.end())
      throw InvalidArgument(at + ": parameter '" + name + "' is not in the space");
    if (it->type == ParamType::kCategorical)
      throw InvalidArgument(at + ": parameter '" + name +
                            "' is categorical (constraints take float and int parameters)");
    if (!it->condition.parent.empty())
      throw InvalidArgument(at + ": parameter '" + name +
                            "' is conditional (constraints take parameters that always exist)");
    // A constraint linear in the value is not linear in a log parameter's encoding, and the
    // bisection of pull_toward relies on straight lines in the cube.
    if (it->log)
      throw InvalidArgument(at + ": parameter '" + name +
                            "' has a log scale (constraints take linear-scale parameters)");
    if (!std::isfinite(coef) || coef == 0.0)
      throw InvalidArgument(at + ": the coefficient of '" + name +
                            "' must be a finite non-zero number (got " + num(coef) + ")");
  }
  if (!std::isfinite(c.bound))
    throw InvalidArgument(at + ": the bound must be finite (got " + num(c.bound) + ")");
  Space next = *this;  // validate everything before changing this space
  next.constraints_.push_back(c);
  next.update_terms();
  next.find_feasible_point();
  *this = std::move(next);
  return *this;
}

Space Space::with_fixed(const Params& values) const {
  if (values.empty()) return *this;
  Params merged = fixed_;
  for (const auto& [name, value] : values) {
    bool known = false;
    for (const ParamSpec& s : params_) known = known || s.name == name;
    if (!known) throw InvalidArgument("fixed values: unknown parameter '" + name + "'");
    for (const ParamSpec& s : params_) {
      if (s.name == name && !s.condition.parent.empty()) {
        throw InvalidArgument("fixed values: parameter '" + name +
                              "' is conditional (only parameters that always exist can be fixed; "
                              "fix its parent instead)");
      }
    }
    merged[name] = value;
  }
  // Check the values as a whole point would be checked: the centre with the fixed values set.
  Params point = decode(Eigen::VectorXd::Constant(encoded_dim_, 0.5));
  for (const auto& [name, value] : merged) point[name] = value;
  Params canon;
  try {
    canon = canonical(has_conditions() ? active_only(point) : point);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(std::string("fixed values: ") + e.what());
  }
  const Eigen::VectorXd enc = encode(canon);
  Space out = *this;
  out.fixed_.clear();
  out.fixed_mask_.assign(static_cast<std::size_t>(encoded_dim_), false);
  out.fixed_u_ = Eigen::VectorXd::Zero(encoded_dim_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ParamSpec& s = params_[i];
    if (merged.count(s.name) == 0) continue;
    out.fixed_[s.name] = canon.at(s.name);
    const int width = s.type == ParamType::kCategorical ? static_cast<int>(s.choices.size()) : 1;
    for (int j = offsets_[i]; j < offsets_[i] + width; ++j) {
      out.fixed_mask_[static_cast<std::size_t>(j)] = true;
      out.fixed_u_[j] = enc[j];
    }
  }
  out.update_terms();
  out.find_feasible_point();
  return out;
}

void Space::update_terms() {
  terms_.clear();
  for (const LinearConstraint& c : constraints_) {
    std::vector<Term> terms;
    for (const auto& [name, coef] : c.terms) {
      const auto it = std::find_if(params_.begin(), params_.end(),
                                   [&](const ParamSpec& s) { return s.name == name; });
      const auto fixed = fixed_.find(name);
      double value = std::numeric_limits<double>::quiet_NaN();
      if (fixed != fixed_.end()) {
        value = std::holds_alternative<double>(fixed->second)
                    ? std::get<double>(fixed->second)
                    : static_cast<double>(std::get<std::int64_t>(fixed->second));
      }
      terms.push_back(
          {static_cast<std::size_t>(it - params_.begin()), c.greater ? -coef : coef, value});
    }
    terms_.push_back(std::move(terms));
  }
}

double Space::constraint_lhs(std::size_t k, const Eigen::Ref<const Eigen::VectorXd>& u) const {
  // Summed in the terms' name order (a map's), with the sign of ">=" folded into the
  // coefficients: negation is exact, so sum(-a x) <= -b exactly when sum(a x) >= b.
  double lhs = 0.0;
  for (const Term& t : terms_[k]) {
    const double x = std::isnan(t.fixed) ? numeric_value(t.index, u[offsets_[t.index]]) : t.fixed;
    lhs += t.coef * x;
  }
  return lhs;
}

bool Space::meets_constraints(const Eigen::Ref<const Eigen::VectorXd>& u) const {
  for (std::size_t k = 0; k < constraints_.size(); ++k) {
    const double bound = constraints_[k].greater ? -constraints_[k].bound : constraints_[k].bound;
    if (!(constraint_lhs(k, u) <= bound)) return false;
  }
  return true;
}

bool Space::admits(const Eigen::Ref<const Eigen::VectorXd>& u) const {
  if (u.size() != encoded_dim_) return false;
  for (std::size_t j = 0; j < fixed_mask_.size(); ++j)
    if (fixed_mask_[j] && u[static_cast<Eigen::Index>(j)] != fixed_u_[static_cast<Eigen::Index>(j)])
      return false;
  return meets_constraints(u);
}

void Space::check_constraints(const Params& p) const {
  for (std::size_t k = 0; k < constraints_.size(); ++k) {
    const LinearConstraint& c = constraints_[k];
    double lhs = 0.0, scale = std::abs(c.bound);
    for (const auto& [name, coef] : c.terms) {
      const ParamValue& v = p.at(name);
      const double x = std::holds_alternative<double>(v)
                           ? std::get<double>(v)
                           : static_cast<double>(std::get<std::int64_t>(v));
      lhs += coef * x;
      scale += std::abs(coef * x);
    }
    const double tol = kUserTol * std::max(1.0, scale);
    if (c.greater ? lhs < c.bound - tol : lhs > c.bound + tol) {
      throw InvalidArgument("the point violates " + where(k) + ": its left-hand side is " +
                            num(lhs) + ", the bound " + (c.greater ? ">= " : "<= ") + num(c.bound));
    }
  }
}

void Space::snap_unconstrained(Eigen::Ref<Eigen::VectorXd> u) const {
  if (u.size() != encoded_dim_)
    throw InvalidArgument("snap: vector has " + std::to_string(u.size()) +
                          " entries, the space encodes to " + std::to_string(encoded_dim_));
  snap_params(u);
  for (std::size_t j = 0; j < fixed_mask_.size(); ++j)
    if (fixed_mask_[j]) u[static_cast<Eigen::Index>(j)] = fixed_u_[static_cast<Eigen::Index>(j)];
  if (!fixed_.empty() && has_conditions()) impute_inactive(u);
}

void Space::restrict(Eigen::Ref<Eigen::VectorXd> u) const {
  for (std::size_t j = 0; j < fixed_mask_.size(); ++j)
    if (fixed_mask_[j]) u[static_cast<Eigen::Index>(j)] = fixed_u_[static_cast<Eigen::Index>(j)];
  // A fixed parent decides which of its children are active.
  if (!fixed_.empty() && has_conditions()) impute_inactive(u);
  if (!constraints_.empty() && !meets_constraints(u)) pull_toward(u, feasible_u_);
}

void Space::pull_toward(Eigen::Ref<Eigen::VectorXd> u,
                        const Eigen::Ref<const Eigen::VectorXd>& from) const {
  if (admits(u)) return;
  // The constraints cut a convex polytope from the box (in the parameters' units, which are
  // affine in the encoding of linear-scale parameters): bisect the segment from the admitted
  // `from` to u, keeping the admitted end. Rounding of ints and grids can make the admitted
  // set along the segment ragged; the kept end is admitted whatever happens.
  const Eigen::VectorXd start = admits(from) ? Eigen::VectorXd(from) : feasible_u_;
  if (start.size() != encoded_dim_) return;  // nothing to pull toward (no constraints)
  const Eigen::VectorXd dir = Eigen::VectorXd(u) - start;
  Eigen::VectorXd best = start, v;
  double lo = 0.0, hi = 1.0;
  for (int step = 0; step < kPullSteps; ++step) {
    const double mid = 0.5 * (lo + hi);
    v = start + mid * dir;
    snap_params(v);
    for (std::size_t j = 0; j < fixed_mask_.size(); ++j)
      if (fixed_mask_[j]) v[static_cast<Eigen::Index>(j)] = fixed_u_[static_cast<Eigen::Index>(j)];
    if (meets_constraints(v)) {
      lo = mid;
      best = v;
    } else {
      hi = mid;
    }
  }
  u = best;
}

void Space::find_feasible_point() {
  feasible_u_.resize(0);
  if (constraints_.empty()) return;
  const auto prepare = [&](Eigen::VectorXd& v) {
    snap_params(v);
    for (std::size_t j = 0; j < fixed_mask_.size(); ++j)
      if (fixed_mask_[j]) v[static_cast<Eigen::Index>(j)] = fixed_u_[static_cast<Eigen::Index>(j)];
  };
  const std::string with_fixed = fixed_.empty() ? "" : " with the fixed values";
  // Each constraint alone: its smallest left-hand side over the box is at a corner (each term
  // at the bound that makes it smallest), exactly, integers and grids included.
  std::vector<Eigen::VectorXd> tries;
  for (std::size_t k = 0; k < constraints_.size(); ++k) {
    Eigen::VectorXd v = Eigen::VectorXd::Constant(encoded_dim_, 0.5);
    for (const Term& t : terms_[k]) v[offsets_[t.index]] = t.coef > 0.0 ? 0.0 : 1.0;
    prepare(v);
    const double bound = constraints_[k].greater ? -constraints_[k].bound : constraints_[k].bound;
    const double lhs = constraint_lhs(k, v);
    if (!(lhs <= bound)) {
      const LinearConstraint& c = constraints_[k];
      throw InvalidArgument(where(k) + " cannot be met within the parameters' bounds" + with_fixed +
                            ": the left-hand side is at " + (c.greater ? "most " : "least ") +
                            num(c.greater ? -lhs : lhs) + ", the bound " +
                            (c.greater ? ">= " : "<= ") + num(c.bound));
    }
    tries.push_back(std::move(v));
  }
  // Together: the centre, those corners and random points; keep the one with the largest
  // smallest slack (each constraint's slack relative to its range over the box), so that
  // pull_toward starts from the interior rather than from a corner.
  tries.push_back(Eigen::VectorXd::Constant(encoded_dim_, 0.5));
  prepare(tries.back());
  std::mt19937_64 rng(0x9E3779B97F4A7C15ULL);
  std::uniform_real_distribution<double> unif;
  for (int i = 0; i < kFeasibleSamples; ++i) {
    Eigen::VectorXd v(encoded_dim_);
    for (Eigen::Index j = 0; j < encoded_dim_; ++j) v[j] = unif(rng);
    prepare(v);
    tries.push_back(std::move(v));
  }
  std::vector<double> range(constraints_.size(), 0.0);
  for (std::size_t k = 0; k < constraints_.size(); ++k)
    for (const Term& t : terms_[k])
      range[k] += std::abs(t.coef) * (params_[t.index].high - params_[t.index].low);
  double best_slack = -1.0;
  for (const Eigen::VectorXd& v : tries) {
    double slack = std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < constraints_.size() && slack >= 0.0; ++k) {
      const double bound = constraints_[k].greater ? -constraints_[k].bound : constraints_[k].bound;
      slack = std::min(slack, (bound - constraint_lhs(k, v)) / range[k]);
    }
    if (slack >= 0.0 && slack > best_slack) {
      best_slack = slack;
      feasible_u_ = v;
    }
  }
  if (feasible_u_.size() == 0) {
    throw InvalidArgument(
        "constraints: no point found that meets every constraint" + with_fixed +
        " (tried the centre of the box, the corner that best meets each constraint and " +
        std::to_string(kFeasibleSamples) + " random points)");
  }
}

void parse_restrictions(const Json& doc, Space* space) {
  if (const auto it = doc.find("constraints"); it != doc.end()) {
    if (!it->is_array()) throw InvalidArgument("space JSON: \"constraints\" must be an array");
    for (std::size_t k = 0; k < it->size(); ++k) {
      const Json& j = (*it)[k];
      const std::string at = "space JSON: " + where(k);
      if (!j.is_object()) throw InvalidArgument(at + " is not an object");
      LinearConstraint c;
      bool has_bound = false;
      for (const auto& item : j.items()) {
        const std::string& key = item.key();
        if (key == "terms") {
          if (!item.value().is_object() || item.value().empty())
            throw InvalidArgument(at + ": \"terms\" must be a non-empty object of name: number");
          for (const auto& term : item.value().items()) {
            if (!term.value().is_number())
              throw InvalidArgument(at + ": the coefficient of '" + term.key() +
                                    "' must be a number");
            c.terms[term.key()] = term.value().get<double>();
          }
        } else if (key == "<=" || key == ">=") {
          if (has_bound) throw InvalidArgument(at + ": give exactly one of \"<=\" and \">=\"");
          if (!item.value().is_number())
            throw InvalidArgument(at + ": \"" + key + "\" must be a number");
          has_bound = true;
          c.bound = item.value().get<double>();
          c.greater = key == ">=";
        } else {
          throw InvalidArgument(at + ": unknown key \"" + key + "\" (allowed: terms, <=, >=)");
        }
      }
      if (c.terms.empty()) throw InvalidArgument(at + ": missing \"terms\"");
      if (!has_bound) throw InvalidArgument(at + ": missing \"<=\" or \">=\"");
      space->add_constraint(c);
    }
  }
  if (const auto it = doc.find("fixed"); it != doc.end()) {
    if (!it->is_object())
      throw InvalidArgument("space JSON: \"fixed\" must be an object of name: value");
    Params values;
    try {
      values = decode_params(*it, space);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("space JSON: fixed values: ") + e.what());
    }
    *space = space->with_fixed(values);
  }
}

void write_restrictions(const Space& space, nlohmann::ordered_json* doc) {
  using Ordered = nlohmann::ordered_json;
  if (!space.constraints().empty()) {
    Ordered list = Ordered::array();
    for (const LinearConstraint& c : space.constraints()) {
      Ordered o;
      o["terms"] = Ordered(c.terms);
      o[c.greater ? ">=" : "<="] = c.bound;
      list.push_back(std::move(o));
    }
    (*doc)["constraints"] = std::move(list);
  }
  if (!space.fixed().empty()) {
    (*doc)["fixed"] = Ordered::parse(params_to_json(space.fixed(), &space).dump());
  }
}

}  // namespace gpbo
