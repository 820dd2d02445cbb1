/** Levenshtein distance, case-insensitive (a misspelt capital is the commonest slip). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[y.length] ?? 0;
}

/**
 * The closest candidate within a third of the word's length (at least 2 edits), if any; never one that
 * shares no letter in place (a one-letter name is not a misspelling of another).
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = distance(word, name);
    if (d < word.length && d <= Math.max(2, Math.floor(word.length / 3)) && (!best || d < best.d))
      best = { name, d };
  }
  return best?.name;
}

/** '; did you mean X?' for the closest candidate, or ''. */
export const suggestion = (word: string, candidates: Iterable<string>): string => {
  const near = didYouMean(word, candidates);
  return near ? `; did you mean ${near}?` : '';
};
