#include "space/params_json.hpp"

#include <cmath>

#include "gpbo/error.hpp"

namespace gpbo {

nlohmann::json params_to_json(const Params& params) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : params) {
    std::visit([&, &key = name](const auto& v) { j[key] = v; }, value);
  }
  return j;
}

Params params_from_json(const nlohmann::json& j, const Space& space) {
  if (!j.is_object()) throw InvalidArgument("params must be a JSON object, got " + j.dump());
  Params p;
  for (const auto& [name, v] : j.items()) {
    const ParamSpec* spec = nullptr;
    for (const ParamSpec& s : space.params()) {
      if (s.name == name) spec = &s;
    }
    if (!spec) throw InvalidArgument("unknown parameter '" + name + "' (not in the space)");
    switch (spec->type) {
      case ParamType::kFloat:
        if (!v.is_number()) throw InvalidArgument("parameter '" + name + "': expected a number");
        p[name] = v.get<double>();
        break;
      case ParamType::kInt:
        if (v.is_number_integer()) {
          p[name] = v.get<std::int64_t>();
        } else if (v.is_number() && std::trunc(v.get<double>()) == v.get<double>()) {
          p[name] = static_cast<std::int64_t>(v.get<double>());
        } else {
          throw InvalidArgument("parameter '" + name + "': expected an integer, got " + v.dump());
        }
        break;
      case ParamType::kCategorical:
        if (!v.is_string()) throw InvalidArgument("parameter '" + name + "': expected a string");
        p[name] = v.get<std::string>();
        break;
    }
  }
  return space.canonical(p);
}

}  // namespace gpbo
