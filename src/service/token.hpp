#pragma once
// Bearer tokens of `gpbo serve`: where a client's token comes from, and the server's token file
// (several named tokens, each with a role, stored only as SHA-256 hashes).
//
// The token file, one token a line, blank lines and lines starting with '#' ignored:
//
//     # NAME   ROLE    sha256:HEX (the SHA-256 of the token, 64 lowercase hex digits)
//     alice    admin   sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//     slurm    worker  sha256:...
//
// NAME: 1 to 64 of [A-Za-z0-9._-], unique in the file. ROLE: read, worker or admin. A file that
// holds one bare word (today's form) is one admin token named "default", as is
// GPBO_SERVER_TOKEN. `gpbo token add` writes the lines.

#include <string>
#include <string_view>
#include <vector>

namespace gpbo::service {

/// What a token may do: `read` reads studies; `worker` also asks, tells and heartbeats on
/// existing studies; `admin` may do everything (create, delete, enqueue, import).
enum class Role { kRead = 0, kWorker = 1, kAdmin = 2 };

/// "read", "worker", "admin".
const char* to_string(Role role);
/// InvalidArgument for anything but the three names.
Role parse_role(const std::string& text);

/// One token the server accepts: its name (recorded with every write), role and the SHA-256 of
/// the token (32 raw bytes).
struct TokenEntry {
  std::string name;
  Role role = Role::kRead;
  std::string sha256;
};

/// The SHA-256 of `data` (32 raw bytes), by OpenSSL's EVP API.
std::string sha256(std::string_view data);

/// The tokens of a token file's text (format above); `source` names the file in errors.
/// InvalidArgument, naming the line, for a malformed line, an unknown role, a duplicate name or
/// a file without tokens.
std::vector<TokenEntry> parse_token_file(const std::string& text, const std::string& source);

/// The server's tokens: from `token_file` when given (the format above, or one bare token: an
/// admin named "default"), else GPBO_SERVER_TOKEN (an admin named "default"), else none.
/// InvalidArgument for an unreadable or malformed file.
std::vector<TokenEntry> load_server_tokens(const std::string& token_file);

/// A new random token: 32 bytes from OpenSSL's RAND_bytes, base64url without padding (43
/// characters of [A-Za-z0-9_-]). Error when the generator fails.
std::string generate_token();

/// Generates a token, appends its line to `token_file` (created with mode 0600 when missing)
/// and returns the token, which is stored nowhere else. InvalidArgument for a bad name, a name
/// already in the file, or a file that is malformed or cannot be written.
std::string add_token(const std::string& token_file, const std::string& name, Role role);

/// The client's token: from `token_file` (surrounding whitespace trimmed) when given, else from
/// the GPBO_SERVER_TOKEN environment variable, else "". InvalidArgument for an unreadable file or
/// a file that holds no token.
std::string load_token(const std::string& token_file);

/// Whether `host` is a loopback address: "localhost", 127.0.0.0/8 or ::1. The server refuses
/// tokens in clear text beyond loopback, and a client refuses to send one there.
bool is_loopback_host(const std::string& host);

}  // namespace gpbo::service
