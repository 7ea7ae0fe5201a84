#include "service/token.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gpbo/error.hpp"

namespace gpbo::service {
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

}  // namespace gpbo::service
