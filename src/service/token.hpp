#pragma once
// Where the bearer token of `gpbo serve` comes from, for the server and its clients alike.

#include <string>

namespace gpbo::service {

/// The token from `token_file` (surrounding whitespace trimmed) when given, else from the
/// GPBO_SERVER_TOKEN environment variable, else "". InvalidArgument for an unreadable file or a
/// file that holds no token.
std::string load_token(const std::string& token_file);

}  // namespace gpbo::service
