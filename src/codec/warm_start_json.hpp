#pragma once
// The JSON forms of warm-start sources (gpbo/warm_start.hpp): the copy a stored study keeps in
// its engine state, the inline sources of an HTTP create-study body, and an exported study file
// (`gpbo export`) read as a source.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gpbo/warm_start.hpp"

namespace gpbo {

/// {"study": "old", "direction": "minimize", "observations": [{"params": {...}, "value": 1.5}]}
nlohmann::json warm_start_source_to_json(const WarmStartSource& s);
/// Reads that object (params typed by their JSON: integers as int, other numbers as float,
/// strings as categorical). InvalidArgument naming the source when malformed.
WarmStartSource warm_start_source_from_json(const nlohmann::json& j);

/// A study exported with `gpbo export` ({"study": ..., "trials": [...]}): its complete trials
/// with a value become the observations. The file carries no direction: `direction` is taken
/// unless the object has a "direction" key. `label` names the source. InvalidArgument when
/// malformed.
WarmStartSource warm_start_source_from_export(const nlohmann::json& j, Direction direction,
                                              const std::string& label);

}  // namespace gpbo
