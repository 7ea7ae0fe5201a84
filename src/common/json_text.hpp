#pragma once
// JSON as text for messages and replies: compact, and never throwing on strings that are not
// UTF-8 (stored or received bytes); those become U+FFFD.

#include <nlohmann/json.hpp>
#include <string>

namespace gpbo {

inline std::string json_text(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace gpbo
