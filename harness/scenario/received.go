package scenario

import "sort"

// received is the set of stream bytes that have arrived, kept as sorted,
// disjoint intervals [from, to): a segment costs its neighbours, not its
// bytes, so that checking 65536 segments of a 16 MiB stream is quick.
type received struct{ iv [][2]int }

// add marks bytes from..to as arrived.
func (r *received) add(from, to int) {
	if from >= to {
		return
	}
	// The intervals that touch or overlap [from, to) merge with it.
	i := sort.Search(len(r.iv), func(k int) bool { return r.iv[k][1] >= from })
	j := sort.Search(len(r.iv), func(k int) bool { return r.iv[k][0] > to })
	if i < j {
		from, to = min(from, r.iv[i][0]), max(to, r.iv[j-1][1])
	}
	r.iv = append(r.iv[:i], append([][2]int{{from, to}}, r.iv[j:]...)...)
}

// prefix is how many bytes from the start have arrived without a hole.
func (r *received) prefix() int {
	if len(r.iv) == 0 || r.iv[0][0] > 0 {
		return 0
	}
	return r.iv[0][1]
}

// highest is the end of the last bytes that arrived.
func (r *received) highest() int {
	if len(r.iv) == 0 {
		return 0
	}
	return r.iv[len(r.iv)-1][1]
}
