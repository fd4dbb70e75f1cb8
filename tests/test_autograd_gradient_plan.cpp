// Gradients of op outputs share memory by lifetime, placed by a plan from the previous step (gradient_plan.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "support/tiny_model.hpp"

using namespace mae;

namespace {

// Forward and backward of the tiny model on `tape` with fixed masks; returns every parameter's gradient.
std::vector<float> gradients(test::TinyModel& model, Tape<>& tape, std::vector<float>& images) {
  std::vector<float> noise(images.size() / (test::TinyModel::C * test::TinyModel::Img * test::TinyModel::Img) *
                           test::TinyModel::L);
  fill_uniform(noise.data(), noise.size(), 3, 0);
  model.visit_params([](const std::string&, auto& p) { std::fill(p.grad.data(), p.grad.data() + p.grad.size(), 0.f); });
  tape.reset();
  auto out = model.forward(tape, test::image_var(images), noise.data());
  tape.backward(out.loss);
  std::vector<float> g;
  model.visit_params([&](const std::string&, auto& p) { g.insert(g.end(), p.grad.data(), p.grad.data() + p.grad.size()); });
  return g;
}

}  // namespace

TEST_CASE("planned gradient memory: the same bits as the first step's unshared buffers, in a fraction of the memory") {
  auto images = test::random_images(4, 1);
  test::TinyModel model(2);
  Tape<> tape;
  const auto first = gradients(model, tape, images);  // no plan yet: every gradient has its own buffer
  CHECK(tape.planned_gradient_bytes() > 0);
  CHECK(tape.planned_gradient_bytes() * 3 < tape.gradient_bytes());
  CHECK(gradients(model, tape, images) == first);  // the first planned step: its region was allocated at reset
  const auto allocations = tape.backend_allocations();
  CHECK(gradients(model, tape, images) == first);
  CHECK(tape.backend_allocations() == allocations);  // later planned steps take nothing new
}

TEST_CASE("planned gradient memory: a step with another batch size leaves the plan and plans again") {
  auto four = test::random_images(4, 5), two = test::random_images(2, 6);
  test::TinyModel model(3);
  Tape<> tape;
  for (int round = 0; round < 2; ++round) {
    for (auto* images : {&four, &two, &four, &four}) {
      Tape<> fresh;
      CHECK(gradients(model, tape, *images) == gradients(model, fresh, *images));
    }
  }
}

TEST_CASE("planned gradient memory: a graph that reads a gradient the plan had reused throws, then plans again") {
  std::vector<float> x(1000, 0.5f), dx(1000);
  const Var<float, Shape<1000>> in{x.data(), dx.data(), {1000}};
  Tape<> tape;
  // y1 is last read by y2's op, so y3 can take y1's memory in the plan.
  auto y3 = scale(tape, scale(tape, scale(tape, in, 2.f), 2.f), 2.f);
  tape.backward(sum(tape, y3));
  tape.reset();
  // The same three ops, then y1 read again after y3 exists: y1 and y3 would both be live in one place.
  auto y1 = scale(tape, in, 2.f);
  auto z = add(tape, scale(tape, scale(tape, y1, 2.f), 2.f), y1);
  CHECK_THROWS_WITH_AS(tape.backward(sum(tape, z)),
                       doctest::Contains("record different graphs on different tapes"), mae::error);
  // The tape planned again from that step: recorded once more, the second graph runs, d/dx sum(8x + 2x) = 10.
  tape.reset();
  std::fill(dx.begin(), dx.end(), 0.f);
  auto w1 = scale(tape, in, 2.f);
  tape.backward(sum(tape, add(tape, scale(tape, scale(tape, w1, 2.f), 2.f), w1)));
  CHECK(dx[0] == 10.f);
  CHECK(dx[999] == 10.f);
}

TEST_CASE("a recording runs backward once: its nodes reuse what they saved, and its gradients are zeroed as used") {
  std::vector<float> x(10, 1.f), dx(10, 0.f);
  const Var<float, Shape<10>> in{x.data(), dx.data(), {10}};
  Tape<> tape;
  auto loss = sum(tape, scale(tape, in, 3.f));
  tape.backward(loss);
  CHECK_THROWS_WITH_AS(tape.backward(loss), doctest::Contains("reset() and record the step again"), mae::error);
  CHECK(dx[0] == 3.f);
  tape.reset();
  tape.backward(sum(tape, scale(tape, in, 3.f)));
  CHECK(dx[0] == 6.f);
}
