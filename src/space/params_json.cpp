#include "space/params_json.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "common/json_text.hpp"
#include "gpbo/error.hpp"

namespace gpbo {
namespace {

using Json = nlohmann::json;

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw InvalidArgument("parameter '" + name + "': " + what);
}

const ParamSpec* find_spec(const Space* space, const std::string& name) {
  if (space == nullptr) return nullptr;
  for (const ParamSpec& spec : space->params()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

Json encode(const std::string& name, const ParamValue& value, const ParamSpec* spec) {
  if (const auto* d = std::get_if<double>(&value)) {
    if (!std::isfinite(*d)) bad(name, "the value is not finite");
    if (spec == nullptr || spec->type == ParamType::kFloat) return Json(*d);
    if (spec->type == ParamType::kCategorical) bad(name, "a categorical parameter given a number");
    if (*d != std::floor(*d) || std::fabs(*d) > kMaxExactInt) {
      bad(name, "an int parameter given the non-integral value " + to_string(value));
    }
    return Json(static_cast<std::int64_t>(*d));
  }
  if (const auto* i = std::get_if<std::int64_t>(&value)) {
    if (spec == nullptr || spec->type == ParamType::kInt) return Json(*i);
    if (spec->type == ParamType::kCategorical) bad(name, "a categorical parameter given a number");
    return Json(static_cast<double>(*i));
  }
  const auto& s = std::get<std::string>(value);
  if (spec != nullptr && spec->type != ParamType::kCategorical) {
    bad(name, "a numeric parameter given the string '" + s + "'");
  }
  return Json(s);
}

std::int64_t integer_of(const std::string& name, const Json& j) {
  if (j.is_number_integer()) {
    if (j.is_number_unsigned() &&
        j.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
      bad(name, "the integer " + json_text(j) + " is out of range");
    }
    return j.get<std::int64_t>();
  }
  const double d = j.get<double>();  // 2.0 or 1e2 are fine when integral
  if (d != std::floor(d) || std::fabs(d) > kMaxExactInt) {
    bad(name, "expected an integer, got " + json_text(j));
  }
  return static_cast<std::int64_t>(d);
}

ParamValue decode(const std::string& name, const Json& j, const ParamSpec* spec) {
  if (spec == nullptr) {
    if (j.is_number_integer()) return integer_of(name, j);
    if (j.is_number()) return j.get<double>();
    if (j.is_string()) return j.get<std::string>();
    bad(name, "expected a number or a string, got " + json_text(j));
  }
  switch (spec->type) {
    case ParamType::kFloat:
      if (!j.is_number()) bad(name, "expected a number, got " + json_text(j));
      return j.get<double>();
    case ParamType::kInt:
      if (!j.is_number()) bad(name, "expected an integer, got " + json_text(j));
      return integer_of(name, j);
    case ParamType::kCategorical:
      if (!j.is_string()) bad(name, "expected a string, got " + json_text(j));
      return j.get<std::string>();
  }
  bad(name, "unknown parameter type");
}

}  // namespace

Json params_to_json(const Params& params, const Space* space) {
  Json j = Json::object();
  for (const auto& [name, value] : params) j[name] = encode(name, value, find_spec(space, name));
  return j;
}

Params decode_params(const Json& j, const Space* space) {
  if (!j.is_object()) throw InvalidArgument("params must be a JSON object, got " + json_text(j));
  Params p;
  for (const auto& [name, v] : j.items()) p.emplace(name, decode(name, v, find_spec(space, name)));
  return p;
}

Params params_from_json(const Json& j, const Space& space) {
  return space.canonical(decode_params(j, &space));
}

}  // namespace gpbo
