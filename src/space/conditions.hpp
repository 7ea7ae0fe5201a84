#pragma once
// Conditional parameters: the JSON form of a Condition and its text in error messages. The
// Space's own condition methods live in conditions.cpp too.

#include <nlohmann/json.hpp>
#include <string>

#include "gpbo/space.hpp"

namespace gpbo {

/// Reads `{"parent": "optimizer", "in": ["sgd"]}` or `{"parent": "layers", "low": 3}` (with
/// "high", or both) for parameter `name`. Checks the form only; Space::set_condition checks it
/// against the parent. Throws InvalidArgument naming the parameter.
Condition condition_from_json(const std::string& name, const nlohmann::json& j);

/// The JSON form read by condition_from_json.
nlohmann::ordered_json condition_to_json(const Condition& c);

/// "optimizer in [sgd, adam]", "layers >= 3", "layers in [2, 4]".
std::string condition_text(const Condition& c);

}  // namespace gpbo
