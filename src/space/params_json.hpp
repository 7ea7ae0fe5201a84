#pragma once
// Points of a space as JSON objects: floats as numbers, ints as integers, categoricals as
// strings. Shared by the stores, the persistent engine and the front doors.

#include <nlohmann/json.hpp>

#include "gpbo/space.hpp"

namespace gpbo {

nlohmann::json params_to_json(const Params& params);
/// Reads a point of `space` (types follow the space: an int parameter needs an integral
/// number, a categorical a string). Validates; throws InvalidArgument naming the parameter.
Params params_from_json(const nlohmann::json& j, const Space& space);

}  // namespace gpbo
