#include "service/token.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "gpbo/error.hpp"

namespace gpbo::service {
namespace {

constexpr const char* kWhitespace = " \t\r\n";
constexpr std::string_view kHashPrefix = "sha256:";
constexpr std::size_t kMaxNameLength = 64;

std::string trim(const std::string& s) {
  const std::size_t b = s.find_first_not_of(kWhitespace);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(kWhitespace) - b + 1);
}

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InvalidArgument(std::string("cannot read the ") + what + " '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string to_hex(const std::string& bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

/// One bare word (no whitespace inside, not a comment): today's single-token file.
bool is_bare_token(const std::string& trimmed) {
  return !trimmed.empty() && trimmed[0] != '#' &&
         trimmed.find_first_of(kWhitespace) == std::string::npos;
}

std::vector<TokenEntry> default_admin(const std::string& token) {
  return {TokenEntry{"default", Role::kAdmin, sha256(token)}};
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::kRead:
      return "read";
    case Role::kWorker:
      return "worker";
    case Role::kAdmin:
      return "admin";
  }
  return "read";
}

Role parse_role(const std::string& text) {
  if (text == "read") return Role::kRead;
  if (text == "worker") return Role::kWorker;
  if (text == "admin") return Role::kAdmin;
  throw InvalidArgument("unknown role '" + text + "' (expected read, worker or admin)");
}

std::string sha256(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1 || len != 32) {
    throw Error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::vector<TokenEntry> parse_token_file(const std::string& text, const std::string& source) {
  std::vector<TokenEntry> out;
  std::set<std::string> names;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    const std::string where = source + ":" + std::to_string(number) + ": ";
    std::istringstream fields(t);
    std::string name, role, hash, extra;
    fields >> name >> role >> hash;
    if (hash.empty() || (fields >> extra)) {
      throw InvalidArgument(where + "expected 'NAME ROLE sha256:HEX' (three fields)");
    }
    if (!valid_name(name)) {
      throw InvalidArgument(where + "the token name must be 1 to 64 of [A-Za-z0-9._-]");
    }
    if (!names.insert(name).second) {
      throw InvalidArgument(where + "the token name '" + name + "' is used twice");
    }
    TokenEntry e;
    e.name = name;
    try {
      e.role = parse_role(role);
    } catch (const InvalidArgument& err) {
      throw InvalidArgument(where + err.what());
    }
    if (hash.compare(0, kHashPrefix.size(), kHashPrefix) != 0 ||
        hash.size() != kHashPrefix.size() + 64) {
      throw InvalidArgument(where + "the hash must be 'sha256:' and 64 lowercase hex digits");
    }
    for (std::size_t i = kHashPrefix.size(); i < hash.size(); i += 2) {
      const int hi = hex_digit(hash[i]);
      const int lo = hex_digit(hash[i + 1]);
      if (hi < 0 || lo < 0) {
        throw InvalidArgument(where + "the hash must be 'sha256:' and 64 lowercase hex digits");
      }
      e.sha256 += static_cast<char>(hi * 16 + lo);
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) throw InvalidArgument(source + ": the token file holds no token");
  return out;
}

std::vector<TokenEntry> load_server_tokens(const std::string& token_file) {
  if (!token_file.empty()) {
    const std::string text = read_text(token_file, "token file");
    const std::string trimmed = trim(text);
    if (trimmed.empty()) throw InvalidArgument("the token file '" + token_file + "' is empty");
    if (is_bare_token(trimmed)) return default_admin(trimmed);
    return parse_token_file(text, token_file);
  }
  const char* env = std::getenv("GPBO_SERVER_TOKEN");
  const std::string token = env ? trim(env) : std::string();
  if (token.empty()) return {};
  return default_admin(token);
}

std::string generate_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error("cannot generate a token (RAND_bytes)");
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (const unsigned char b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string add_token(const std::string& token_file, const std::string& name, Role role) {
  if (!valid_name(name)) {
    throw InvalidArgument("--name '" + name + "': 1 to 64 of [A-Za-z0-9._-]");
  }
  std::string text;
  if (::access(token_file.c_str(), F_OK) == 0) {
    text = read_text(token_file, "token file");
    const std::string trimmed = trim(text);
    if (is_bare_token(trimmed)) {
      throw InvalidArgument("the token file '" + token_file +
                            "' holds one bare token; move it away or start a new file");
    }
    if (!trimmed.empty()) {
      // Only comments is fine; anything else must parse (and the name must be new).
      std::vector<TokenEntry> existing;
      try {
        existing = parse_token_file(text, token_file);
      } catch (const InvalidArgument& e) {
        if (std::string(e.what()).find("holds no token") == std::string::npos) throw;
      }
      for (const TokenEntry& e : existing) {
        if (e.name == name) {
          throw InvalidArgument("the token file '" + token_file + "' already has a token named '" +
                                name + "'");
        }
      }
    }
  }
  const std::string token = generate_token();
  std::string line = name + " " + to_string(role) + " sha256:" + to_hex(sha256(token)) + "\n";
  if (!text.empty() && text.back() != '\n') line = "\n" + line;
  const int fd = ::open(token_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw InvalidArgument("cannot write the token file '" + token_file + "'");
  const ssize_t n = ::write(fd, line.data(), line.size());
  const bool closed = ::close(fd) == 0;
  if (n != static_cast<ssize_t>(line.size()) || !closed) {
    throw InvalidArgument("cannot write the token file '" + token_file + "'");
  }
  return token;
}

std::string load_token(const std::string& token_file) {
  if (!token_file.empty()) {
    const std::string token = trim(read_text(token_file, "token file"));
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

}  // namespace gpbo::service
