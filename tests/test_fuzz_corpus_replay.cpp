// Replays the fuzz seed corpus (tests/fuzz/corpus, written by tests/fuzz/make_corpus.cpp) through the
// fuzz targets, built with g++ here: every file must give success or a clean mae::error, never a crash
// or a broken invariant, and each case must have the outcome its manifest (<harness>.expected) gives.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "fuzz/target_png.hpp"  // first: it compiles stb into this TU
#include "fuzz/target_checkpoint.hpp"
#include "fuzz/target_idx.hpp"
#include "fuzz/target_safetensors.hpp"

namespace {

namespace fs = std::filesystem;

fs::path corpus_dir() {
#ifdef MAE_TEST_DATA_DIR
  return fs::path(MAE_TEST_DATA_DIR).parent_path() / "fuzz" / "corpus";
#else
  return fs::path(__FILE__).parent_path() / "fuzz" / "corpus";
#endif
}

struct Expectation {
  std::string file, stage;
  bool ok;
  std::string text;  // what the error must contain
};

std::vector<Expectation> read_manifest(const fs::path& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in, "cannot open " << path);
  std::vector<Expectation> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    Expectation e;
    std::string outcome;
    words >> e.file >> e.stage >> outcome;
    e.ok = outcome == "ok";
    REQUIRE_MESSAGE((e.ok || outcome == "error"), "bad manifest line: " << line);
    std::getline(words >> std::ws, e.text);
    out.push_back(e);
  }
  return out;
}

std::vector<std::byte> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> b(s.size());
  std::copy_n(reinterpret_cast<const std::byte*>(s.data()), s.size(), b.data());
  return b;
}

// Every file of the harness's corpus through its target; returns the stages per file name.
template <class Target>
std::map<std::string, mae::fuzz::Stages> replay(const std::string& harness, Target target) {
  std::map<std::string, mae::fuzz::Stages> results;
  for (const auto& entry : fs::directory_iterator(corpus_dir() / harness)) {
    const std::string name = entry.path().filename().string();
    INFO(harness << " corpus file " << name);
    try {
      results[name] = target(read_bytes(entry.path()));
    } catch (const std::exception& e) {  // InvariantViolation, or an exception that is not mae::error
      FAIL_CHECK("not a clean outcome: " << std::string(e.what()));
    }
  }
  return results;
}

template <class Target>
void check_corpus(const std::string& harness, Target target) {
  const auto results = replay(harness, target);
  const auto expectations = read_manifest(corpus_dir() / (harness + ".expected"));
  CHECK(results.size() >= 10);
  std::map<std::string, int> checked;
  for (const Expectation& e : expectations) {
    INFO(harness << " case " << e.file << ", stage " << e.stage);
    const auto it = results.find(e.file);
    REQUIRE_MESSAGE(it != results.end(), "the manifest names a file that is not in the corpus");
    const auto stage = std::find_if(it->second.begin(), it->second.end(), [&](auto& s) { return s.name == e.stage; });
    if (!e.ok && stage == it->second.end()) {  // an earlier stage rejected the file: that is the one to check
      const auto rejected = std::find_if(it->second.begin(), it->second.end(), [](auto& s) { return !s.accepted; });
      REQUIRE(rejected != it->second.end());
      CHECK_MESSAGE(rejected->message.find(e.text) != std::string::npos, "message: " << rejected->message);
    } else {
      REQUIRE_MESSAGE(stage != it->second.end(), "the target did not run this stage");
      CHECK_MESSAGE(stage->accepted == e.ok, "message: " << stage->message);
      if (!e.ok) CHECK_MESSAGE(stage->message.find(e.text) != std::string::npos, "message: " << stage->message);
    }
    ++checked[e.file];
  }
  // Each generated case (ok_*, bad_*) is in the manifest; other files (fuzzer finds) only must not crash.
  for (const auto& [name, stages] : results)
    if (name.rfind("ok_", 0) == 0 || name.rfind("bad_", 0) == 0) CHECK_MESSAGE(checked.count(name), name);
  MESSAGE(harness << ": " << results.size() << " corpus files, " << expectations.size() << " expectations");
}

}  // namespace

TEST_CASE("fuzz corpus replay: safetensors") { check_corpus("safetensors", mae::fuzz::safetensors); }
TEST_CASE("fuzz corpus replay: checkpoint (official and HuggingFace names)") {
  check_corpus("checkpoint", mae::fuzz::checkpoint);
}
TEST_CASE("fuzz corpus replay: IDX") { check_corpus("idx", mae::fuzz::idx); }
TEST_CASE("fuzz corpus replay: PNG") { check_corpus("png", mae::fuzz::png); }
