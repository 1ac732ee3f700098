// Runs before the page renders (not deferred): styles can tell "JavaScript is on" apart from the no-JS fallbacks.
document.documentElement.className += " js";
