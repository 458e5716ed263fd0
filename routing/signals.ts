/**
 * The cue patterns task analysis counts. Each signal is a global regex, a weight per match and a cap,
 * so one repeated word cannot swamp everything else. Most patterns ignore case; the few that do not
 * (SQL keywords, error class names, identifiers) look for the shape code actually has. The word lists
 * were written for, and checked against, the labelled table in test/unit/routing/prompts.ts.
 */
export interface Signal {
  re: RegExp;
  weight: number;
  cap: number;
}

const s = (re: RegExp, weight: number, cap: number): Signal => ({ re, weight, cap });

/** Code: fences, stack traces, identifiers, file names, language and tooling words, SQL, syntax. */
export const CODE: readonly Signal[] = [
  s(/```/g, 1.5, 6), // a fence pair counts 3
  s(
    /^\s+at \S.*:\d+(:\d+)?\)?$|Traceback \(most recent call last\)|File "[^"]+", line \d+|\b[A-Z]\w*(Error|Exception)\b|segmentation fault|core dumped|panicked at|undefined is not a function|cannot read propert/gim,
    2.5,
    5,
  ),
  s(/\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+[A-Z][a-z0-9]+[A-Za-z0-9]*\b|\w\(\)|\b\w+\.\w+\(/g, 0.75, 3),
  s(/\b[\w-]+\.(py|js|mjs|ts|tsx|jsx|java|go|rs|rb|cpp|cc|hpp|cs|php|sql|sh|kt|swift|ya?ml|toml)\b/gi, 1, 2),
  s(
    /\b(functions?|def|class(es)?|methods?|return|const|let|var|imports?|async|await|lambda|struct|enum|interfaces?|generics?|go program|shell|postgres(ql)?|mysql|sqlite|mongodb|redis|api|endpoints?|http|graphql|compile[rsd]?|runtime|debug(ging)?|bugs?|stack trace|refactor(ing)?|unit tests?|pytest|jest|pull request|git|commits?|rebase|merge conflicts?|branch(es)?|docker|kubernetes|npm|pip|react|node\.?js|express|django|flask|algorithm|data structures?|arrays?|linked list|hash ?map|binary tree|recursion|big-o|script|code|codebase|program|implement(ation)?|variables?|loops?|null|undefined|segfault|memory leak|threads?|thread-safe|mutex|deadlocks?|concurrency|goroutines?|channels?|schema|ddl|index(es|ing)?|queries|query|one-liner|library|framework|backend|frontend|server|database)\b/gi,
    1,
    6,
  ),
  // Naming a language or query syntax is a strong cue on its own.
  s(
    /\b(python|javascript|typescript|java|rust|golang|kotlin|swift|ruby|php|bash|powershell|c\+\+|c#|sql|regex(es)?|regexp|regular expressions?|html|css)\b/gi,
    2,
    4,
  ),
  s(/\b(SELECT|INSERT INTO|UPDATE|DELETE FROM|WHERE|JOIN|GROUP BY|ORDER BY|CREATE TABLE)\b/g, 1, 3),
  s(/=>|->|::|===|!==|\+\+|&&|\|\||[{};]\s*$/gm, 0.5, 2),
];

/** Math: LaTeX, math symbols, arithmetic expressions, algebra, and the words of the trade. */
export const MATH: readonly Signal[] = [
  s(
    /\\(frac|int|iint|sum|prod|sqrt|lim|infty|alpha|beta|gamma|theta|lambda|pi|cdot|times|leq|geq|neq|partial|mathbb|mathrm|binom|ln|log|sin|cos|to)\b|\$[^$\n]*[\\^_=][^$\n]*\$/g,
    2,
    6,
  ),
  s(/[∫∑∏√π≤≥≠∞∂±÷×]/g, 1.5, 3),
  // Arithmetic: a minus sign only with spaces around it, so dates and phone numbers do not count.
  s(
    /\d\s*[+*/^×÷]\s*\(?\d|\d\s+-\s+\(?\d|\d\s*=\s*\d|\b\d*[a-z]\^\d|\b\d+[a-z]\s*[-+=]|\b[a-z]\s*[+=]\s*\d/g,
    1.5,
    4.5,
  ),
  s(
    /\b(prove|proof|theorem|lemma|corollary|integrals?|integrate|derivatives?|differentiate|equations?|inequalit(y|ies)|probability|expected value|variance|matri(x|ces)|eigen\w*|determinant|primes?|polynomials?|factorial|modulo|logarithms?|square root|algebra(ic)?|geometry|triangles?|radius|vectors?|limit|converge\w*|divisible|gcd|lcm|combinatorics|permutations?|induction|irrational|integers?|extrema|concavity|derivative|field|integral domain|characteristic|decimal|fraction)\b/gi,
    1.5,
    6,
  ),
  s(
    /\b(solve|compute|calculate|how (many|much)|percent(age)?|sum of|average|mean|ratio|interest rate|compound(ed|ing)?|squared|cubed|divided by|times|plus|minus)\b|%/gi,
    0.75,
    3,
  ),
];

/** Reasoning: why/compare/trade-off/plan, logic puzzles, decisions. */
export const REASONING: readonly Signal[] = [
  // Explicit comparison or decision framing counts double.
  s(
    /\b(compare|comparison|trade-?offs?|pros and cons|versus|should i|help me decide|which is better|flaw|fallacy|puzzle|riddle|paradox)\b/gi,
    1,
    3,
  ),
  s(
    /\b(why|compare|comparison|trade-?offs?|pros and cons|versus|vs\.?|plan|planning|strategy|should i|should we|decide|decision|evaluate|analy[sz]e|implications?|reasoning|logic(al)?|puzzle|riddle|paradox|deduce|infer|hypothes\w+|arguments?|assumptions?|which is better|best approach|step by step|think through|weigh|prioriti[sz]e|itinerary|schedule|roadmap|risks?|recommendation|difference between|arrangements?)\b/gi,
    1,
    5,
  ),
  s(
    /\b(knights?|knaves?|always lies|tells? the truth|liars?|syllogism|are all|definitely|if and only if|sits?|seated|immediately (left|right))\b/gi,
    1.5,
    4.5,
  ),
];

/** Writing: forms (essay, poem, email…), editing verbs, tone and style words. */
export const WRITING: readonly Signal[] = [
  s(
    /\b(essays?|stor(y|ies)|poems?|poetry|haikus?|sonnets?|limericks?|lyrics|song|novel|chapter|fiction|narrative|blog post|article|cover letter|letter|e-?mails?|memo|speech|toast|eulogy|slogans?|taglines?|headlines?|captions?|tweets?|linkedin post|press release|newsletter|product description|bio|screenplay|dialogue|characters?|plot|tone|paragraphs?|prose|rhyme|metaphors?|persuasive|iambic|pentameter|stanza|verse)\b/gi,
    2,
    6,
  ),
  s(
    /\b(write|rewrite|rephrase|paraphrase|proofread|edit|polish|draft|compose|translate|translation|summari[sz]e|summary|tl;?dr|shorten|formal|informal|friendly|professional|polite|concise|grammar|wording|funny|heartfelt)\b/gi,
    1,
    4,
  ),
  s(/\b(translate|summari[sz]e|proofread)\b/gi, 1, 2),
  s(
    /\b(english|french|spanish|german|italian|portuguese|japanese|chinese|mandarin|korean|russian|arabic|hindi|dutch)\b/gi,
    0.5,
    1.5,
  ),
];

/** General: extraction and classification of given text, the everyday data chores. */
export const GENERAL: readonly Signal[] = [
  s(
    /\b(extract|classify|categori[sz]e|label|as json|into json|tell me about|fun fact|recommend)\b/gi,
    1.5,
    3,
  ),
];

/** A message that is only a greeting, thanks or small talk. */
export const GREETING =
  /^\s*(hi+|hello+|hey+|yo|hiya|howdy|greetings|good (morning|afternoon|evening|night)|thanks?( you)?( so much)?|thx|ty|cheers|ok(ay)?|cool|great|nice|bye|goodbye|see you|how are you( doing)?( today)?|what'?s up|sup)\b[\s\w,.!?:)'(-]{0,40}$/i;

/**
 * Hardness cues: words that mark a demanding task regardless of its topic. Each counts toward
 * difficulty; three or more saturate the signal.
 */
export const HARD =
  /\b(prove|proof|rigorous(ly)?|formally|optimal|optimi[sz]e|complexity|o\([^)]*\)|edge cases|concurren(t|cy)|race conditions?|thread-safe|lock-free|distributed|scalab\w+|architecture|multi-tenant|idempoten\w+|zero downtime|in depth|in-depth|comprehensive|detailed|thorough(ly)?|advanced|tricky|justify|derive|generali[sz]e|all (valid|possible)|no others|exactly|trade-?offs?|rollback|migrat\w+|benchmarks?|step by step|twist|recontextuali[sz]\w+|strict|academic|counterarguments?|evidence)\b|\b\d[\d,]{2,}[- ]words?\b/gi;

/** Easy cues: the client says it is small. Each lowers difficulty a little. */
export const EASY =
  /\b(quick(ly)?|simple|simply|briefly|short(?! story)|one word|one-liner|just|tl;?dr|in simple terms|eli5|fun fact)\b/gi;

/**
 * Constraints: words that add a requirement the answer must meet, and list items (each a separate
 * requirement). Count toward difficulty and, lightly, toward reasoning.
 */
export const CONSTRAINT =
  /\b(must( not)?|without|at most|at least|exactly|no more than|under \d|only if|unless|constraints?|requirements?|given that|assume|ensure|make sure|each|every|keep all|don'?t|do not|never|always)\b|^\s*(?:[-*•]|\d+[.)])\s+/gim;

/** Commas and semicolons separate listed requirements; each counts half a constraint. */
export const CLAUSE = /[,;]/g;
