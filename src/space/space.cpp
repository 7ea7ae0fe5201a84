/// Search spaces: validation of parameter specs and values, the JSON form, and the bijection
/// between parameter values and the unit cube.
#include "gpbo/space.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "gpbo/error.hpp"
#include "space/conditions.hpp"
#include "space/linear_constraints.hpp"

namespace gpbo {
namespace {

using Json = nlohmann::json;

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw InvalidArgument("parameter '" + name + "': " + what);
}

std::string num(double x) { return to_string(ParamValue(x)); }

const char* type_name(ParamType t) {
  switch (t) {
    case ParamType::kFloat:
      return "float";
    case ParamType::kInt:
      return "int";
    case ParamType::kCategorical:
      return "categorical";
  }
  return "?";
}

// Clamps to [0, 1] and maps NaN to 0: decode/snap accept whatever an optimizer hands them.
double unit(double u) { return u > 0.0 ? std::min(u, 1.0) : 0.0; }

double float_to_unit(const ParamSpec& s, double v) {
  if (s.log) return (std::log(v) - std::log(s.low)) / (std::log(s.high) - std::log(s.low));
  return (v - s.low) / (s.high - s.low);
}

double float_from_unit(const ParamSpec& s, double u) {
  u = unit(u);
  if (u == 0.0) return s.low;  // exact endpoints, independent of rounding below
  if (u == 1.0) return s.high;
  const double raw = s.log ? std::exp(std::log(s.low) + u * (std::log(s.high) - std::log(s.low)))
                           : s.low + u * (s.high - s.low);
  double v = std::clamp(raw, s.low, s.high);
  // The closed-form inverse is often a few ulps off. Step ulp by ulp toward the value whose
  // encoding is u (bounded, never moving away) so decode(encode(v)) is usually exactly v.
  double e = float_to_unit(s, v);
  for (int step = 0; step < 64 && e != u; ++step) {
    const double w = std::nextafter(v, e < u ? s.high : s.low);
    const double f = float_to_unit(s, w);
    if (w == v || (f != e && std::abs(f - u) >= std::abs(e - u))) break;
    v = w;
    e = f;
  }
  return v;
}

// Integer k owns the bin [k - 0.5, k + 0.5], mapped through t = identity or ln; bins have equal
// width in t so every integer gets the same share of the unit interval (of log space when log).
double int_scale(const ParamSpec& s, double x) { return s.log ? std::log(x) : x; }

double int_to_unit(const ParamSpec& s, std::int64_t v) {
  const double a = int_scale(s, s.low - 0.5), b = int_scale(s, s.high + 0.5);
  return (int_scale(s, static_cast<double>(v)) - a) / (b - a);
}

std::int64_t int_from_unit(const ParamSpec& s, double u) {
  const double a = int_scale(s, s.low - 0.5), b = int_scale(s, s.high + 0.5);
  double x = a + unit(u) * (b - a);
  if (s.log) x = std::exp(x);
  return static_cast<std::int64_t>(std::clamp(std::round(x), s.low, s.high));
}

// A stepped parameter's grid low + k step, k = 0 .. n - 1: grid value k owns the bin
// [k / n, (k + 1) / n) of the unit interval, as an integer does.
std::int64_t grid_size(const ParamSpec& s) {
  return static_cast<std::int64_t>(std::llround((s.high - s.low) / s.step)) + 1;
}

double grid_to_unit(const ParamSpec& s, std::int64_t k) {
  return (static_cast<double>(k) + 0.5) / static_cast<double>(grid_size(s));
}

std::int64_t grid_from_unit(const ParamSpec& s, double u) {
  const std::int64_t n = grid_size(s);
  const auto k = static_cast<std::int64_t>(std::floor(unit(u) * static_cast<double>(n)));
  return std::clamp<std::int64_t>(k, 0, n - 1);
}

// low + k step without its rounding (0.1 * 3 is 0.30000000000000004; 15 significant digits
// give 0.3 back).
double grid_point(const ParamSpec& s, double k) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", s.low + k * s.step);
  return std::strtod(buf, nullptr);
}

// Grid value k: the last one is `high` itself.
double grid_value(const ParamSpec& s, std::int64_t k) {
  if (k == grid_size(s) - 1) return s.high;
  return std::clamp(grid_point(s, static_cast<double>(k)), s.low, s.high);
}

// The grid index of a value, or -1 when it is not on the grid (within 1e-9 of a step).
std::int64_t grid_index(const ParamSpec& s, double v) {
  const double q = (v - s.low) / s.step;
  const double k = std::round(q);
  if (std::abs(q - k) > 1e-9 * std::max(1.0, std::abs(q))) return -1;
  return static_cast<std::int64_t>(k);
}

// Index of the largest of k entries; the first one wins ties.
std::size_t argmax(const double* u, std::size_t k) {
  std::size_t best = 0;
  for (std::size_t j = 1; j < k; ++j)
    if (unit(u[j]) > unit(u[best])) best = j;
  return best;
}

void check_bounds(const ParamSpec& s, double x) {
  if (x < s.low || x > s.high)
    fail(s.name, "value " + num(x) + " is outside [" + num(s.low) + ", " + num(s.high) + "]");
}

// The value_* helpers check one value against its spec and return it in its canonical type.
double value_float(const ParamSpec& s, const ParamValue& v) {
  if (std::holds_alternative<std::string>(v)) fail(s.name, "expects a number, got a string");
  const double x = std::holds_alternative<double>(v)
                       ? std::get<double>(v)
                       : static_cast<double>(std::get<std::int64_t>(v));
  if (!std::isfinite(x)) fail(s.name, "value must be finite (got " + num(x) + ")");
  check_bounds(s, x);
  if (s.step > 0.0 && grid_index(s, x) < 0)
    fail(s.name, "value " + num(x) + " is not on its grid " + num(s.low) + " + k * " + num(s.step));
  return x;
}

void check_int_grid(const ParamSpec& s, std::int64_t v) {
  if (s.step > 0.0 && (v - static_cast<std::int64_t>(s.low)) % static_cast<std::int64_t>(s.step))
    fail(s.name, "value " + std::to_string(v) + " is not on its grid " + num(s.low) + " + k * " +
                     num(s.step));
}

std::int64_t value_int(const ParamSpec& s, const ParamValue& v) {
  if (std::holds_alternative<std::string>(v)) fail(s.name, "expects an integer, got a string");
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    // Compare as integers: converting a huge int64 to double could round it into range.
    if (*i < static_cast<std::int64_t>(s.low) || *i > static_cast<std::int64_t>(s.high))
      fail(s.name,
           "value " + std::to_string(*i) + " is outside [" + num(s.low) + ", " + num(s.high) + "]");
    check_int_grid(s, *i);
    return *i;
  }
  const double x = std::get<double>(v);
  if (!std::isfinite(x)) fail(s.name, "value must be finite (got " + num(x) + ")");
  if (std::trunc(x) != x) fail(s.name, "expects an integer, got " + num(x));
  check_bounds(s, x);
  check_int_grid(s, static_cast<std::int64_t>(x));
  return static_cast<std::int64_t>(x);
}

std::size_t value_choice(const ParamSpec& s, const ParamValue& v) {
  const auto* str = std::get_if<std::string>(&v);
  if (str == nullptr) fail(s.name, "expects one of its choices (a string), got a number");
  const auto it = std::find(s.choices.begin(), s.choices.end(), *str);
  if (it == s.choices.end()) {
    std::string list;
    for (const std::string& c : s.choices) list += (list.empty() ? "" : ", ") + c;
    fail(s.name, "'" + *str + "' is not one of its choices (" + list + ")");
  }
  return static_cast<std::size_t>(it - s.choices.begin());
}

std::int64_t json_int(const std::string& name, const std::string& key, const Json& j) {
  // nlohmann stores non-negative integers as unsigned; take those that fit an int64 exactly.
  if (j.is_number_integer() && (!j.is_number_unsigned() ||
                                j.get<std::uint64_t>() <= std::numeric_limits<std::int64_t>::max()))
    return j.get<std::int64_t>();
  const double x = j.get<double>();  // a float such as 2.0 or 1e2 is fine when integral
  if (std::trunc(x) == x && std::abs(x) <= kMaxExactInt) return static_cast<std::int64_t>(x);
  fail(name, "\"" + key + "\" must be an integer within +-2^53 (got " + j.dump() + ")");
}

void parse_param_spec(const Json& j, std::size_t index, Space& space);

// Parses params[index] and adds it to `space` through the public, validating add_* calls (and
// set_condition for a conditional one).
void parse_param(const Json& j, std::size_t index, Space& space) {
  parse_param_spec(j, index, space);
  if (const auto it = j.find("condition"); it != j.end()) {
    const std::string& name = space.params().back().name;
    space.set_condition(name, condition_from_json(name, *it));
  }
}

void parse_param_spec(const Json& j, std::size_t index, Space& space) {
  const std::string where = "space JSON: params[" + std::to_string(index) + "]";
  if (!j.is_object()) throw InvalidArgument(where + " is not an object");
  const auto name_it = j.find("name");
  if (name_it == j.end() || !name_it->is_string())
    throw InvalidArgument(where + ": \"name\" is missing or not a string");
  const std::string name = name_it->get<std::string>();
  const auto type_it = j.find("type");
  if (type_it == j.end() || !type_it->is_string())
    fail(name, "\"type\" is missing or not a string (allowed types: float, int, categorical)");
  const std::string type = type_it->get<std::string>();
  if (type != "float" && type != "int" && type != "categorical")
    fail(name, "unknown type \"" + type + "\" (allowed types: float, int, categorical)");
  const bool categorical = type == "categorical";
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    if (key == "name" || key == "type" || key == "condition") continue;
    const bool numeric_key = key == "low" || key == "high" || key == "log" || key == "step";
    if (numeric_key && categorical) fail(name, "\"" + key + "\" is not allowed for categorical");
    if (key == "choices" && !categorical) fail(name, "\"choices\" is only for categorical");
    if (!numeric_key && key != "choices")
      fail(name, "unknown key \"" + key + "\" (allowed: name, type, " +
                     (categorical ? "choices" : "low, high, log, step") + ", condition)");
  }
  if (categorical) {
    const auto it = j.find("choices");
    const auto is_string = [](const Json& c) { return c.is_string(); };
    if (it == j.end() || !it->is_array() || !std::all_of(it->begin(), it->end(), is_string))
      fail(name, "\"choices\" must be an array of strings");
    space.add_categorical(name, it->get<std::vector<std::string>>());
    return;
  }
  bool log = false;
  if (const auto it = j.find("log"); it != j.end()) {
    if (!it->is_boolean()) fail(name, "\"log\" must be true or false");
    log = it->get<bool>();
  }
  const auto bound = [&](const std::string& key) -> const Json& {
    const auto it = j.find(key);
    if (it == j.end()) fail(name, "missing \"" + key + "\"");
    if (!it->is_number()) fail(name, "\"" + key + "\" must be a number");
    return *it;
  };
  const bool has_step = j.contains("step");
  if (type == "float") {
    space.add_float(name, bound("low").get<double>(), bound("high").get<double>(), log,
                    has_step ? bound("step").get<double>() : 0.0);
  } else {
    space.add_int(name, json_int(name, "low", bound("low")), json_int(name, "high", bound("high")),
                  log, has_step ? json_int(name, "step", bound("step")) : 0);
  }
}

}  // namespace

Space& Space::add_float(const std::string& name, double low, double high, bool log, double step) {
  if (!(step >= 0.0) || !std::isfinite(step))
    fail(name, "\"step\" must be a positive number (got " + num(step) + ")");
  add({name, ParamType::kFloat, low, high, log, {}, step});
  return *this;
}

Space& Space::add_int(const std::string& name, std::int64_t low, std::int64_t high, bool log,
                      std::int64_t step) {
  if (step < 0)
    fail(name, "\"step\" must be a positive integer (got " + std::to_string(step) + ")");
  const auto limit = static_cast<std::int64_t>(kMaxExactInt);
  if (low < -limit || low > limit || high < -limit || high > limit)
    fail(name, "int bounds must be within +-2^53 (got [" + std::to_string(low) + ", " +
                   std::to_string(high) + "])");
  // A step of 1 is every integer: no grid (and so it goes with log, as in Optuna).
  const double grid = step > 1 ? static_cast<double>(step) : 0.0;
  add({name, ParamType::kInt, static_cast<double>(low), static_cast<double>(high), log, {}, grid});
  return *this;
}

Space& Space::add_categorical(const std::string& name, const std::vector<std::string>& choices) {
  add({name, ParamType::kCategorical, 0.0, 1.0, false, choices});
  return *this;
}

// Validates everything before mutating, so a failed add leaves the space unchanged.
void Space::add(ParamSpec spec) {
  const std::string& name = spec.name;
  if (!constraints_.empty() || !fixed_.empty())
    fail(name, "add parameters before constraints and fixed values");
  if (name.empty()) throw InvalidArgument("parameter name must not be empty");
  for (const ParamSpec& p : params_)
    if (p.name == name) fail(name, "duplicate parameter name");
  if (spec.type == ParamType::kCategorical) {
    if (spec.choices.empty()) fail(name, "categorical needs at least one choice");
    std::set<std::string> seen;
    for (const std::string& c : spec.choices) {
      if (c.empty()) fail(name, "choices must not be empty strings");
      if (!seen.insert(c).second) fail(name, "duplicate choice '" + c + "'");
    }
  } else {
    if (!std::isfinite(spec.low) || !std::isfinite(spec.high))
      fail(name, "bounds must be finite (got [" + num(spec.low) + ", " + num(spec.high) + "])");
    if (!(spec.low < spec.high))
      fail(name,
           "requires low < high (got low = " + num(spec.low) + ", high = " + num(spec.high) + ")");
    if (!std::isfinite(spec.high - spec.low)) fail(name, "range high - low overflows");
    const bool is_int = spec.type == ParamType::kInt;
    if (spec.log && (is_int ? spec.low < 1.0 : spec.low <= 0.0))
      fail(name, std::string("log scale requires low ") + (is_int ? ">= 1" : "> 0") +
                     " (got low = " + num(spec.low) + ")");
    if (spec.step > 0.0) {
      if (spec.log) fail(name, "\"step\" and \"log\" cannot be used together");
      const double q = (spec.high - spec.low) / spec.step;
      const double k = std::floor(q + 1e-9 * std::max(1.0, q));
      if (!(k >= 1.0)) fail(name, "\"step\" " + num(spec.step) + " is larger than high - low");
      if (!(k <= kMaxExactInt))
        fail(name, "\"step\" " + num(spec.step) + " is too small for its range");
      if (std::abs(q - std::round(q)) > 1e-9 * std::max(1.0, q)) {
        fail(name, "high - low must be a multiple of \"step\" (" + num(spec.high) + " - " +
                       num(spec.low) + " is not a multiple of " + num(spec.step) +
                       "); the nearest grid value below high is " + num(grid_point(spec, k)));
      }
    }
  }
  const int width =
      spec.type == ParamType::kCategorical ? static_cast<int>(spec.choices.size()) : 1;
  offsets_.push_back(encoded_dim_);
  discrete_mask_.insert(discrete_mask_.end(), width,
                        spec.type != ParamType::kFloat || spec.step > 0.0);
  encoded_dim_ += width;
  params_.push_back(std::move(spec));
}

Space Space::from_json(const std::string& text) {
  Json doc;
  try {
    doc = Json::parse(text);
  } catch (const Json::exception& e) {  // malformed, or a number past the double range (1e400)
    throw InvalidArgument(std::string("space JSON is malformed: ") + e.what());
  }
  const Json* list = &doc;
  if (doc.is_object()) {
    for (const auto& item : doc.items())
      if (item.key() != "params" && item.key() != "constraints" && item.key() != "fixed")
        throw InvalidArgument("space JSON: unknown key \"" + item.key() +
                              "\" (expected \"params\", \"constraints\", \"fixed\")");
    const auto it = doc.find("params");
    if (it == doc.end()) throw InvalidArgument("space JSON: missing \"params\"");
    list = &*it;
  }
  if (!list->is_array())
    throw InvalidArgument("space JSON: expected {\"params\": [...]} or an array of parameters");
  if (list->empty()) throw InvalidArgument("space JSON: the space has no parameters");
  Space space;
  for (std::size_t i = 0; i < list->size(); ++i) parse_param((*list)[i], i, space);
  if (doc.is_object()) parse_restrictions(doc, &space);
  return space;
}

std::string Space::to_json() const {
  // ordered_json keeps "name" and "type" first, which reads better than alphabetical order.
  using Ordered = nlohmann::ordered_json;
  Ordered list = Ordered::array();
  for (const ParamSpec& s : params_) {
    Ordered p;
    p["name"] = s.name;
    p["type"] = type_name(s.type);
    if (s.type == ParamType::kCategorical) {
      p["choices"] = s.choices;
    } else if (s.type == ParamType::kInt) {
      p["low"] = static_cast<std::int64_t>(s.low);
      p["high"] = static_cast<std::int64_t>(s.high);
      p["log"] = s.log;
      if (s.step > 0.0) p["step"] = static_cast<std::int64_t>(s.step);
    } else {
      p["low"] = s.low;
      p["high"] = s.high;
      p["log"] = s.log;
      if (s.step > 0.0) p["step"] = s.step;
    }
    if (!s.condition.parent.empty()) p["condition"] = condition_to_json(s.condition);
    list.push_back(std::move(p));
  }
  Ordered doc;
  doc["params"] = std::move(list);
  write_restrictions(*this, &doc);
  return doc.dump(2);
}

bool Space::all_discrete() const {
  return std::none_of(params_.begin(), params_.end(), [](const ParamSpec& s) {
    return s.type == ParamType::kFloat && s.step == 0.0;
  });
}

void Space::validate(const Params& p) const {
  // In declaration order: a child's activity depends on its parent, checked before it.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ParamSpec& s = params_[i];
    const auto it = p.find(s.name);
    if (!active(i, p)) {
      if (it != p.end())
        fail(s.name, "is inactive at this point (its condition " + condition_text(s.condition) +
                         " does not hold) and must be left out");
      continue;
    }
    if (it == p.end())
      fail(s.name, s.condition.parent.empty() ? "missing from the point"
                                              : "missing from the point (active because " +
                                                    condition_text(s.condition) + ")");
    switch (s.type) {
      case ParamType::kFloat:
        value_float(s, it->second);
        break;
      case ParamType::kInt:
        value_int(s, it->second);
        break;
      case ParamType::kCategorical:
        value_choice(s, it->second);
        break;
    }
  }
  for (const auto& entry : p) {
    const bool known = std::any_of(params_.begin(), params_.end(),
                                   [&](const ParamSpec& s) { return s.name == entry.first; });
    if (!known) throw InvalidArgument("unknown parameter '" + entry.first + "' (not in the space)");
  }
}

Params Space::canonical(const Params& p) const {
  validate(p);
  Params out;
  for (const ParamSpec& s : params_) {
    const auto it = p.find(s.name);
    if (it == p.end()) continue;  // inactive
    const ParamValue& v = it->second;
    switch (s.type) {
      case ParamType::kFloat:
        out[s.name] = value_float(s, v);
        break;
      case ParamType::kInt:
        out[s.name] = value_int(s, v);
        break;
      case ParamType::kCategorical:
        out[s.name] = v;
        break;
    }
  }
  return out;
}

Eigen::VectorXd Space::encode(const Params& p) const {
  validate(p);
  Eigen::VectorXd u = Eigen::VectorXd::Zero(encoded_dim_);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ParamSpec& s = params_[i];
    const auto it = p.find(s.name);
    if (it == p.end()) {  // inactive: its fixed value
      if (s.type != ParamType::kCategorical) u[offsets_[i]] = kInactiveNumeric;
      continue;
    }
    const ParamValue& v = it->second;
    switch (s.type) {
      case ParamType::kFloat: {
        const double x = value_float(s, v);
        u[offsets_[i]] = s.step > 0.0 ? grid_to_unit(s, grid_index(s, x)) : float_to_unit(s, x);
        break;
      }
      case ParamType::kInt: {
        const std::int64_t x = value_int(s, v);
        u[offsets_[i]] = s.step > 0.0 ? grid_to_unit(s, grid_index(s, static_cast<double>(x)))
                                      : int_to_unit(s, x);
        break;
      }
      case ParamType::kCategorical:
        u[offsets_[i] + static_cast<int>(value_choice(s, v))] = 1.0;
        break;
    }
  }
  return u;
}

Params Space::decode(const Eigen::Ref<const Eigen::VectorXd>& u) const {
  if (u.size() != encoded_dim_)
    throw InvalidArgument("decode: vector has " + std::to_string(u.size()) +
                          " entries, the space encodes to " + std::to_string(encoded_dim_));
  Params out;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ParamSpec& s = params_[i];
    if (!active(i, out)) continue;  // parents come first, so `out` holds them
    switch (s.type) {
      case ParamType::kFloat:
        out[s.name] = s.step > 0.0 ? grid_value(s, grid_from_unit(s, u[offsets_[i]]))
                                   : float_from_unit(s, u[offsets_[i]]);
        break;
      case ParamType::kInt:
        out[s.name] = s.step > 0.0
                          ? static_cast<std::int64_t>(s.low) + grid_from_unit(s, u[offsets_[i]]) *
                                                                   static_cast<std::int64_t>(s.step)
                          : int_from_unit(s, u[offsets_[i]]);
        break;
      case ParamType::kCategorical:
        out[s.name] = s.choices[argmax(u.data() + offsets_[i], s.choices.size())];
        break;
    }
  }
  for (const auto& [name, value] : fixed_) out[name] = value;  // exactly, not through the cube
  return out;
}

void Space::snap(Eigen::Ref<Eigen::VectorXd> u) const {
  if (u.size() != encoded_dim_)
    throw InvalidArgument("snap: vector has " + std::to_string(u.size()) +
                          " entries, the space encodes to " + std::to_string(encoded_dim_));
  snap_params(u);
  restrict(u);
}

double Space::numeric_value(std::size_t i, double x) const {
  const ParamSpec& s = params_[i];
  if (s.step > 0.0) {
    const std::int64_t k = grid_from_unit(s, x);
    return s.type == ParamType::kInt ? s.low + static_cast<double>(k) * s.step : grid_value(s, k);
  }
  return s.type == ParamType::kInt ? static_cast<double>(int_from_unit(s, x))
                                   : float_from_unit(s, x);
}

void Space::snap_params(Eigen::Ref<Eigen::VectorXd> u) const {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const ParamSpec& s = params_[i];
    double* x = u.data() + offsets_[i];
    switch (s.type) {
      case ParamType::kFloat:
        *x = s.step > 0.0 ? grid_to_unit(s, grid_from_unit(s, *x)) : unit(*x);
        break;
      case ParamType::kInt:
        *x = s.step > 0.0 ? grid_to_unit(s, grid_from_unit(s, *x))
                          : int_to_unit(s, int_from_unit(s, *x));
        break;
      case ParamType::kCategorical: {
        const std::size_t k = argmax(x, s.choices.size());
        for (std::size_t j = 0; j < s.choices.size(); ++j) x[j] = j == k ? 1.0 : 0.0;
        break;
      }
    }
  }
  if (has_conditions()) impute_inactive(u);
}

bool Space::operator==(const Space& other) const {
  const auto same = [](const ParamSpec& a, const ParamSpec& b) {
    return a.name == b.name && a.type == b.type && a.low == b.low && a.high == b.high &&
           a.log == b.log && a.choices == b.choices && a.step == b.step &&
           a.condition.parent == b.condition.parent && a.condition.in == b.condition.in &&
           a.condition.low == b.condition.low && a.condition.high == b.condition.high;
  };
  const auto same_constraint = [](const LinearConstraint& a, const LinearConstraint& b) {
    return a.terms == b.terms && a.bound == b.bound && a.greater == b.greater;
  };
  return std::equal(params_.begin(), params_.end(), other.params_.begin(), other.params_.end(),
                    same) &&
         std::equal(constraints_.begin(), constraints_.end(), other.constraints_.begin(),
                    other.constraints_.end(), same_constraint) &&
         fixed_ == other.fixed_;
}

std::string to_string(const ParamValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  // Shortest text that parses back to the same double.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof(buf), std::get<double>(v));
  return std::string(buf, res.ptr);
}

}  // namespace gpbo
