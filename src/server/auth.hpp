#pragma once
// The server's access rules: bearer tokens compared in constant time, and which listen
// addresses count as loopback (where a token comes from: service/token.hpp).

#include <string>
#include <string_view>
#include <vector>

#include "service/token.hpp"

namespace gpbo::server {

/// Whether a == b, in time that depends only on the lengths, never on where the bytes differ
/// (so a client cannot find the token byte by byte from response times).
bool constant_time_equal(std::string_view a, std::string_view b);

/// Whether an `Authorization` header value is "Bearer <token>" with the expected token; the
/// comparison of the token is constant-time.
bool bearer_matches(std::string_view header, std::string_view token);

/// The token of an `Authorization` header value "Bearer <token>" (scheme case-insensitive), or
/// "" when the value is not of that form or holds a control byte (a NUL included: the token is
/// compared byte for byte as sent, never cut short).
std::string bearer_token(std::string_view header);

/// The entry of `tokens` whose hash is the SHA-256 of `token`, or nullptr. Every entry is
/// compared, each in constant time, so the time depends only on the number of tokens.
const service::TokenEntry* find_token(const std::vector<service::TokenEntry>& tokens,
                                      std::string_view token);

/// Whether `host` is a loopback address (service/token.hpp: the client needs it too).
using service::is_loopback_host;

/// A listen address "HOST:PORT", "[IPv6]:PORT" or ":PORT" (host 127.0.0.1). Port 0 picks a
/// free port. InvalidArgument when malformed.
struct ListenAddress {
  std::string host = "127.0.0.1";
  int port = 8470;
};
ListenAddress parse_listen_address(const std::string& text);

}  // namespace gpbo::server
