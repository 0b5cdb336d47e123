// Package spell suggests the name a typo most likely meant, for error
// messages that say "did you mean FETCH?".
package spell

// Closest returns the name in list nearest to s by edit distance, if it
// is close enough to be a typo (at most two edits, and fewer than half of
// s's letters), or "".
func Closest(s string, list []string) string {
	best, bestD := "", min(3, (len(s)+1)/2)
	for _, c := range list {
		if d := distance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Damerau-Levenshtein distance (optimal string alignment,
// counting an adjacent transposition as one edit: the commonest typo,
// FECTH for FETCH).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
