#pragma once
// SHA-256 (OpenSSL's libcrypto) as lowercase hex: the report's digest of the trial data and the
// hash chain of a study's log.

#include <string>
#include <string_view>

namespace gpbo {

/// The SHA-256 digest of `data` as 64 lowercase hex digits. Throws Error if libcrypto fails.
std::string sha256_hex(std::string_view data);

}  // namespace gpbo
