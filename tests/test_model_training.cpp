// Training-loop behaviour: resume exactness, determinism across thread counts, gradient accumulation, the
// non-finite stop, and check mode naming the op and module.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <omp.h>

#include "support/tiny_model.hpp"

using namespace mae;
using test::TinyModel;

namespace {

using Trainer = optim::Pretrainer<TinyModel>;

void train(Trainer& t, std::vector<float>& images, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t it = from; it < to; ++it) t.step(test::image_var(images), it, 1e-3 * (1 + it % 3));
}

}  // namespace

TEST_CASE("resume: N steps, save, load, M steps == N + M uninterrupted, bit for bit (params and moments)") {
  auto images = test::random_images(4, 1);
  const auto path = (std::filesystem::temp_directory_path() / "mae_test_resume.safetensors").string();

  TinyModel straight(3);
  Trainer a(straight, {});
  train(a, images, 0, 7);

  TinyModel first(3);
  Trainer b(first, {});
  train(b, images, 0, 4);
  save_checkpoint(path, first, &b.optimizer(), 4);

  TinyModel resumed(99);  // different init: everything must come from the file
  Trainer c(resumed, {});
  auto meta = load_checkpoint(path, resumed, &c.optimizer());
  CHECK(meta.at("step") == "4");
  train(c, images, 4, 7);

  CHECK(test::flat_params(straight) == test::flat_params(resumed));
  auto& sa = a.optimizer().slots();
  auto& sc = c.optimizer().slots();
  REQUIRE(sa.size() == sc.size());
  for (std::size_t i = 0; i < sa.size(); ++i)
    for (std::size_t k = 0; k < sa[i].size; ++k) {
      REQUIRE(sa[i].exp_avg.data()[k] == sc[i].exp_avg.data()[k]);
      REQUIRE(sa[i].exp_avg_sq.data()[k] == sc[i].exp_avg_sq.data()[k]);
    }
  CHECK(a.optimizer().steps() == c.optimizer().steps());
  std::filesystem::remove(path);
}

TEST_CASE("determinism: the same seed gives the same bits with 1 and 2 threads") {
  auto run = [](int threads) {
    omp_set_num_threads(threads);
    auto images = test::random_images(8, 2);
    TinyModel m(5);
    Trainer t(m, {});
    train(t, images, 0, 5);
    return test::flat_params(m);
  };
  const int before = omp_get_max_threads();
  auto one = run(1), two = run(2);
  omp_set_num_threads(before);
  CHECK(one == two);
}

TEST_CASE("gradient accumulation: two half batches with accum_iter 2 equal one full batch (to rounding)") {
  auto images = test::random_images(4, 3);
  std::vector<float> half1(images.begin(), images.begin() + images.size() / 2),
      half2(images.begin() + images.size() / 2, images.end());
  // The same masks: noise for the full batch is split between the halves.
  std::vector<float> noise(4 * TinyModel::L);
  fill_uniform(noise.data(), noise.size(), 7, 0);

  TinyModel full(4), accum(4);
  optim::AdamW<float> of(full, {.lr = 1e-3}), oa(accum, {.lr = 1e-3});
  of.zero_grad();
  oa.zero_grad();
  Tape<> tape;
  auto out = full.forward(tape, test::image_var(images), noise.data());
  tape.backward(out.loss);
  for (auto* h : {&half1, &half2}) {
    tape.reset();
    auto o = accum.forward(tape, test::image_var(*h), noise.data() + (h == &half1 ? 0 : 2 * TinyModel::L));
    tape.backward(o.loss, 0.5f);
  }
  // Both halves remove the same number of patches, so the mean of the halves' losses is the full batch's loss.
  for (std::size_t i = 0; i < of.slots().size(); ++i)
    for (std::size_t k = 0; k < of.slots()[i].size; ++k)
      { INFO(of.slots()[i].name << "[" << k << "] " << of.slots()[i].grad[k] << " vs " << oa.slots()[i].grad[k]);
        REQUIRE(std::abs(of.slots()[i].grad[k] - oa.slots()[i].grad[k]) <= 1e-5f * (1 + std::abs(of.slots()[i].grad[k]))); }
}

TEST_CASE("a non-finite loss stops training and names the iteration and the first bad op") {
  auto images = test::random_images(2, 4);
  images[5] = std::nanf("");
  TinyModel m(1);
  Trainer t(m, {});
  auto before = test::flat_params(m);
  try {
    t.step(test::image_var(images), 17, 1e-3);
    FAIL("no error");
  } catch (const mae::error& e) {
    const std::string msg = e.what();
    CHECK(msg.find("iteration 17") != std::string::npos);
    CHECK(msg.find("patch_embed") != std::string::npos);  // the first op whose output is not finite
    CHECK(msg.find("linear") != std::string::npos);
  }
  CHECK(test::flat_params(m) == before);  // nothing was updated
}

TEST_CASE("check mode names the module path of the first non-finite output") {
  TinyModel m(1);
  m.blocks[1].mlp.fc1.weight.value.data()[3] = INFINITY;
  auto images = test::random_images(2, 5);
  Tape<> tape;
  tape.set_check_finite(true);
  CHECK_THROWS_WITH_AS(m.forward(tape, test::image_var(images)), doctest::Contains("at blocks.1.mlp"), mae::error);
}
