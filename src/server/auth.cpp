#include "server/auth.hpp"

#include "gpbo/error.hpp"

namespace gpbo::server {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Visit max(|a|, |b|) bytes whatever they hold; volatile keeps the compiler from stopping at
  // the first difference.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

bool bearer_matches(std::string_view header, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || header.size() < kScheme.size()) return false;
  // The scheme is case-insensitive (RFC 7235); it is not secret.
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = header[i];
    const char want = kScheme[i];
    if ((c | 0x20) != (want | 0x20)) return false;
  }
  return constant_time_equal(header.substr(kScheme.size()), token);
}

std::string bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "Bearer ";
  if (header.size() <= kScheme.size()) return "";
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if ((header[i] | 0x20) != (kScheme[i] | 0x20)) return "";
  }
  for (const char ch : header) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return "";
  }
  return std::string(header.substr(kScheme.size()));
}

const service::TokenEntry* find_token(const std::vector<service::TokenEntry>& tokens,
                                      std::string_view token) {
  if (token.empty()) return nullptr;
  const std::string digest = service::sha256(token);
  const service::TokenEntry* found = nullptr;
  for (const service::TokenEntry& e : tokens) {
    if (constant_time_equal(digest, e.sha256) && found == nullptr) found = &e;
  }
  return found;
}

ListenAddress parse_listen_address(const std::string& text) {
  ListenAddress a;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      throw InvalidArgument("--listen '" + text + "': expected [IPv6]:PORT");
    }
    a.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string::npos) {
      throw InvalidArgument("--listen '" + text + "': expected HOST:PORT");
    }
    if (colon > 0) a.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (a.host.empty() || (a.host.find(':') != std::string::npos && text[0] != '[')) {
    throw InvalidArgument("--listen '" + text + "': expected HOST:PORT or [IPv6]:PORT");
  }
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    throw InvalidArgument("--listen '" + text + "': the port must be a number in 0..65535");
  }
  a.port = std::stoi(port_text);
  return a;
}

}  // namespace gpbo::server
