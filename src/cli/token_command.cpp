// `gpbo token add`: mints a token for `gpbo serve`, appends its hashed line to a token file
// (service/token.hpp) and prints the token once.
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "service/token.hpp"

namespace gpbo::cli {
namespace {

struct TokenArgs {
  std::string file;
  std::string name;
  std::string role;
};

}  // namespace

std::function<int()> add_token_command(CLI::App& app) {
  auto a = std::make_shared<TokenArgs>();
  CLI::App* token = app.add_subcommand("token", "Manage the token file of gpbo serve");
  token->require_subcommand(1);
  CLI::App* add = token->add_subcommand(
      "add", "Mint a random token, append its SHA-256 to the file, print the token once");
  add->add_option("--file", a->file, "Token file (created with mode 0600 when missing)")
      ->required();
  add->add_option("--name", a->name, "Token name, recorded with every write: [A-Za-z0-9._-]")
      ->required();
  add->add_option("--role", a->role, "read, worker or admin")
      ->required()
      ->check(CLI::IsMember({"read", "worker", "admin"}));
  return [a, add]() -> int {
    if (!*add) return -1;
    std::cout << service::add_token(a->file, a->name, service::parse_role(a->role)) << std::endl;
    return kOk;
  };
}

}  // namespace gpbo::cli
