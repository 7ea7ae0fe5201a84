#pragma once
// The one codec of points as JSON objects: floats as numbers, ints as integers, categoricals as
// strings. Used by the stores, the engine's log and state, and every front door.

#include <nlohmann/json.hpp>

#include "gpbo/space.hpp"

namespace gpbo {

/// The JSON object of `params`. With `space`, each value is written as its parameter's kind (an
/// integral double given for an int parameter as an integer, an int given for a float as a
/// number); names the space lacks are written by their own type. Throws InvalidArgument for a
/// non-finite float or a value of the wrong kind (a number for a categorical, a string for a
/// numeric parameter, a fraction for an int).
nlohmann::json params_to_json(const Params& params, const Space* space = nullptr);

/// Reads such an object, typing each value by its parameter in `space` when given (an int needs
/// an integral number within +-2^53, a float a number, a categorical a string) and by the JSON
/// itself otherwise (integers as int, other numbers as float, strings as categorical). Checks
/// kinds only, not bounds or completeness. Throws InvalidArgument naming the parameter.
Params decode_params(const nlohmann::json& j, const Space* space = nullptr);

/// A point of `space` given by a user: decode_params, then Space::canonical (exactly the
/// space's parameters, each in its bounds or choices). Throws InvalidArgument.
Params params_from_json(const nlohmann::json& j, const Space& space);

}  // namespace gpbo
