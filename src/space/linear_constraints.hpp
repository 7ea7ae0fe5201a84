#pragma once
// The JSON form of a space's linear constraints and fixed values (the "constraints" and "fixed"
// keys of the space JSON); Space::from_json and Space::to_json call these.

#include <nlohmann/json.hpp>

#include "gpbo/space.hpp"

namespace gpbo {

/// Reads "constraints" and "fixed" of a space JSON object into `space` (its parameters already
/// added). Throws InvalidArgument naming the constraint or the parameter.
void parse_restrictions(const nlohmann::json& doc, Space* space);

/// Writes "constraints" and "fixed" when the space has any (a space of today's form is written
/// as before).
void write_restrictions(const Space& space, nlohmann::ordered_json* doc);

}  // namespace gpbo
