/* Self-test mode for "The thread, checked".
 *
 * Each statement sits in a container with the class `thread-claim` and one verdict class
 * (`verdict-true`, `verdict-false`, `verdict-depends`). Its first bold text is the statement;
 * everything after it is the verdict and its evidence. This script hides the verdict and evidence
 * behind three answer buttons and shows them once the reader answers. Without JavaScript nothing
 * here runs, and the page reads as a plain list of statements with their verdicts.
 */
(function () {
  "use strict";

  var CHOICES = [
    { value: "true", label: "True" },
    { value: "false", label: "False" },
    { value: "depends", label: "It depends" },
  ];
  var WORDS = { true: "true", false: "false", depends: "it depends" };

  function verdictOf(claim) {
    for (var i = 0; i < CHOICES.length; i++) {
      if (claim.classList.contains("verdict-" + CHOICES[i].value)) return CHOICES[i].value;
    }
    return null;
  }

  /* Move everything after the statement (its paragraph's remaining nodes and the following blocks)
     into one answer box. */
  function split(claim, statement) {
    var answer = document.createElement("div");
    answer.className = "thread-claim-answer";
    var paragraph = statement.parentNode;
    var rest = document.createElement("p");
    while (statement.nextSibling) rest.appendChild(statement.nextSibling);
    if (rest.textContent.trim() || rest.children.length) answer.appendChild(rest);
    var block = paragraph === claim ? null : paragraph;
    while (block && block.parentNode !== claim) block = block.parentNode;
    var next = block ? block.nextSibling : statement.nextSibling;
    while (next) {
      var following = next.nextSibling;
      answer.appendChild(next);
      next = following;
    }
    claim.appendChild(answer);
    return answer;
  }

  var counter = 0;

  function enhance(claim, showAll) {
    var verdict = verdictOf(claim);
    var statement = claim.querySelector("strong");
    if (!verdict || !statement || claim.dataset.selftest) return null;
    claim.dataset.selftest = "1";
    counter += 1;
    statement.id = statement.id || "thread-claim-" + counter;
    var answer = split(claim, statement);
    answer.id = "thread-claim-answer-" + counter;
    answer.hidden = true;

    var group = document.createElement("div");
    group.className = "thread-claim-buttons";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Your answer");
    group.setAttribute("aria-describedby", statement.id);
    var feedback = document.createElement("p");
    feedback.className = "thread-claim-feedback";
    feedback.setAttribute("role", "status");
    feedback.setAttribute("aria-live", "polite");

    var buttons = CHOICES.map(function (choice) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "thread-claim-button";
      button.dataset.answer = choice.value;
      button.textContent = choice.label;
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-controls", answer.id);
      button.addEventListener("click", function () {
        buttons.forEach(function (other) {
          other.setAttribute("aria-pressed", other === button ? "true" : "false");
        });
        reveal(choice.value);
      });
      group.appendChild(button);
      return button;
    });

    function reveal(given) {
      answer.hidden = false;
      claim.classList.add("thread-claim-answered");
      if (given === null) return;  // "Show all verdicts": no answer to judge
      var right = given === verdict;
      claim.classList.toggle("thread-claim-right", right);
      claim.classList.toggle("thread-claim-wrong", !right);
      feedback.textContent = right
        ? "You answered " + WORDS[given] + ": that matches the verdict below."
        : "You answered " + WORDS[given] + "; the verdict below is " + WORDS[verdict] + ".";
    }

    claim.insertBefore(group, answer);
    claim.insertBefore(feedback, answer);
    return reveal;
  }

  function start() {
    var claims = document.querySelectorAll(".thread-claim");
    if (!claims.length) return;
    var reveals = [];
    for (var i = 0; i < claims.length; i++) {
      var reveal = enhance(claims[i]);
      if (reveal) reveals.push(reveal);
    }
    if (!reveals.length) return;
    var bar = document.createElement("div");
    bar.className = "thread-selftest-bar";
    var intro = document.createElement("p");
    intro.textContent =
      "Self-test: decide whether each statement is true, false, or depends, then read the verdict and the measurement behind it.";
    var all = document.createElement("button");
    all.type = "button";
    all.className = "thread-claim-button thread-selftest-showall";
    all.textContent = "Show all verdicts";
    all.addEventListener("click", function () {
      reveals.forEach(function (show) {
        show(null);
      });
    });
    bar.appendChild(intro);
    bar.appendChild(all);
    claims[0].parentNode.insertBefore(bar, claims[0]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
