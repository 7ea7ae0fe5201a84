/// Conditional parameters: validation of conditions against their parents, which parameters a
/// point activates, and the fixed encoding of the inactive ones.
#include "space/conditions.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "gpbo/error.hpp"

namespace gpbo {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw InvalidArgument("parameter '" + name + "': " + what);
}

std::int64_t bound_int(const std::string& name, const std::string& key, const Json& j) {
  if (j.is_number_integer() && (!j.is_number_unsigned() ||
                                j.get<std::uint64_t>() <= std::numeric_limits<std::int64_t>::max()))
    return j.get<std::int64_t>();
  if (j.is_number_float()) {
    const double x = j.get<double>();
    if (std::trunc(x) == x && std::abs(x) <= kMaxExactInt) return static_cast<std::int64_t>(x);
  }
  fail(name, "condition \"" + key + "\" must be an integer (got " + j.dump() + ")");
}

// Whether an int parent with value v satisfies c.
bool in_range(const Condition& c, std::int64_t v) {
  return (!c.low || v >= *c.low) && (!c.high || v <= *c.high);
}

}  // namespace

Condition condition_from_json(const std::string& name, const Json& j) {
  if (!j.is_object())
    fail(name,
         "\"condition\" must be an object such as {\"parent\": \"optimizer\", \"in\": "
         "[\"sgd\"]} or {\"parent\": \"layers\", \"low\": 3}");
  Condition c;
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (key != "parent" && key != "in" && key != "low" && key != "high")
      fail(name, "unknown key \"" + key + "\" in \"condition\" (allowed: parent, in, low, high)");
  }
  const auto parent = j.find("parent");
  if (parent == j.end() || !parent->is_string() || parent->get<std::string>().empty())
    fail(name, "\"condition\" needs \"parent\", the name of an earlier parameter");
  c.parent = parent->get<std::string>();
  if (const auto in = j.find("in"); in != j.end()) {
    const auto is_string = [](const Json& x) { return x.is_string(); };
    if (!in->is_array() || !std::all_of(in->begin(), in->end(), is_string))
      fail(name, "condition \"in\" must be an array of the parent's choices (strings)");
    c.in = in->get<std::vector<std::string>>();
    if (c.in.empty()) fail(name, "condition \"in\" must list at least one choice");
  }
  if (const auto it = j.find("low"); it != j.end()) c.low = bound_int(name, "low", *it);
  if (const auto it = j.find("high"); it != j.end()) c.high = bound_int(name, "high", *it);
  const bool range = c.low || c.high;
  if (j.contains("in") && range)
    fail(name,
         "\"condition\" takes either \"in\" (categorical parent) or \"low\"/\"high\" (int "
         "parent), not both");
  if (!j.contains("in") && !range)
    fail(name, "\"condition\" needs \"in\" (categorical parent) or \"low\"/\"high\" (int parent)");
  return c;
}

nlohmann::ordered_json condition_to_json(const Condition& c) {
  nlohmann::ordered_json j;
  j["parent"] = c.parent;
  if (!c.in.empty()) j["in"] = c.in;
  if (c.low) j["low"] = *c.low;
  if (c.high) j["high"] = *c.high;
  return j;
}

std::string condition_text(const Condition& c) {
  if (!c.in.empty()) {
    std::string list;
    for (const std::string& v : c.in) list += (list.empty() ? "" : ", ") + v;
    return c.parent + " in [" + list + "]";
  }
  if (c.low && c.high)
    return c.parent + " in [" + std::to_string(*c.low) + ", " + std::to_string(*c.high) + "]";
  if (c.low) return c.parent + " >= " + std::to_string(*c.low);
  return c.parent + " <= " + std::to_string(*c.high);
}

Space& Space::set_condition(const std::string& name, Condition c) {
  const auto index_of = [&](const std::string& n) {
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (params_[i].name == n) return static_cast<std::ptrdiff_t>(i);
    return std::ptrdiff_t{-1};
  };
  const std::ptrdiff_t child = index_of(name);
  if (child < 0) throw InvalidArgument("unknown parameter '" + name + "' (not in the space)");
  ParamSpec& spec = params_[static_cast<std::size_t>(child)];
  if (!spec.condition.parent.empty()) fail(name, "already has a condition");
  for (const LinearConstraint& lc : constraints_) {
    if (lc.terms.count(name)) fail(name, "is in a linear constraint, so it cannot be conditional");
  }
  if (fixed_.count(name)) fail(name, "has a fixed value, so it cannot be conditional");
  if (c.parent.empty()) fail(name, "condition needs a parent");
  if (c.parent == name) fail(name, "a parameter cannot be conditioned on itself");
  const std::ptrdiff_t parent = index_of(c.parent);
  if (parent < 0) fail(name, "condition parent '" + c.parent + "' is not a parameter");
  if (parent > child)
    fail(name, "condition parent '" + c.parent +
                   "' must be declared before the parameters conditioned on it");
  const ParamSpec& p = params_[static_cast<std::size_t>(parent)];
  const bool range = c.low || c.high;
  switch (p.type) {
    case ParamType::kFloat:
      fail(name, "condition parent '" + c.parent +
                     "' is a float; conditions need a categorical or int parent");
    case ParamType::kCategorical: {
      if (range || c.in.empty())
        fail(name, "condition on categorical '" + c.parent + "' needs \"in\" (a list of choices)");
      std::set<std::string> seen;
      for (const std::string& v : c.in) {
        if (std::find(p.choices.begin(), p.choices.end(), v) == p.choices.end())
          fail(name, "condition: '" + v + "' is not a choice of '" + c.parent + "'");
        if (!seen.insert(v).second) fail(name, "condition lists '" + v + "' twice");
      }
      break;
    }
    case ParamType::kInt: {
      if (!c.in.empty() || !range)
        fail(name, "condition on int '" + c.parent + "' needs \"low\" and/or \"high\"");
      if (c.low && c.high && *c.low > *c.high)
        fail(name, "condition range is empty (low " + std::to_string(*c.low) + " > high " +
                       std::to_string(*c.high) + ")");
      // Possible: some value of the parent (on its grid, when stepped) lies in the range.
      const auto lo = static_cast<std::int64_t>(p.low), hi = static_cast<std::int64_t>(p.high);
      const std::int64_t step = p.step > 0.0 ? static_cast<std::int64_t>(p.step) : 1;
      std::int64_t first = std::max(lo, c.low.value_or(lo));
      first = lo + (first - lo + step - 1) / step * step;  // the first grid value >= it
      if (first > std::min(hi, c.high.value_or(hi)))
        fail(name, "condition " + condition_text(c) + " can never hold ('" + c.parent +
                       "' takes values in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                       "]" + (step > 1 ? " in steps of " + std::to_string(step) : "") + ")");
      break;
    }
  }
  spec.condition = std::move(c);
  return *this;
}

bool Space::has_conditions() const {
  return std::any_of(params_.begin(), params_.end(),
                     [](const ParamSpec& s) { return !s.condition.parent.empty(); });
}

bool Space::active(std::size_t i, const Params& p) const {
  const Condition& c = params_[i].condition;
  if (c.parent.empty()) return true;
  // An inactive parent is missing from the point, and then so is its child.
  const auto it = p.find(c.parent);
  if (it == p.end()) return false;
  if (const auto* s = std::get_if<std::string>(&it->second))
    return std::find(c.in.begin(), c.in.end(), *s) != c.in.end();
  if (c.in.empty()) {
    if (const auto* v = std::get_if<std::int64_t>(&it->second)) return in_range(c, *v);
    const double x = std::get<double>(it->second);  // an integral double given for an int
    return (!c.low || x >= static_cast<double>(*c.low)) &&
           (!c.high || x <= static_cast<double>(*c.high));
  }
  return false;
}

Params Space::active_only(const Params& p) const {
  Params out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const auto it = p.find(params_[i].name);
    if (it != p.end() && active(i, out)) out.insert(*it);
  }
  return out;
}

std::vector<bool> Space::active_dims(const Eigen::Ref<const Eigen::VectorXd>& u) const {
  std::vector<bool> mask(static_cast<std::size_t>(encoded_dim_), true);
  if (!has_conditions()) return mask;
  const Params p = decode(u);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (p.count(params_[i].name)) continue;
    const int width = params_[i].type == ParamType::kCategorical
                          ? static_cast<int>(params_[i].choices.size())
                          : 1;
    for (int j = 0; j < width; ++j) mask[static_cast<std::size_t>(offsets_[i] + j)] = false;
  }
  return mask;
}

// An inactive parameter's dimensions are fixed (the centre for a number, no choice for a
// categorical), so the kernel sees every inactive value as one point and never as noise.
void Space::impute_inactive(Eigen::Ref<Eigen::VectorXd> u) const {
  const Params p = decode(u);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (p.count(params_[i].name)) continue;
    if (params_[i].type == ParamType::kCategorical) {
      u.segment(offsets_[i], static_cast<Eigen::Index>(params_[i].choices.size())).setZero();
    } else {
      u[offsets_[i]] = kInactiveNumeric;
    }
  }
}

}  // namespace gpbo
