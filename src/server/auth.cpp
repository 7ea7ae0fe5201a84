#include "server/auth.hpp"

#include <arpa/inet.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

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

namespace {

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n";
  const std::size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

}  // namespace

std::string load_token(const std::string& token_file) {
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!in) throw InvalidArgument("cannot read the token file '" + token_file + "'");
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string token = trim(ss.str());
    if (token.empty()) throw InvalidArgument("the token file '" + token_file + "' is empty");
    return token;
  }
  const char* env = std::getenv("GPBO_SERVER_TOKEN");
  return env ? trim(env) : std::string();
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
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
