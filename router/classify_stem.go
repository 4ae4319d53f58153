package router

import (
	"strings"
	"sync"
	"sync/atomic"

	sastrawi "github.com/RadhiFadlillah/go-sastrawi"
)

// stemmer maps a normalised word to the id of its stem in the classifier's
// vocabulary. go-sastrawi (Nazief–Adriani with regular expressions) takes
// tens of microseconds a word, far too slow for every word of every SMS, so:
//
//   - known, built at load, answers for every root word of the sastrawi
//     dictionary (a root stems to itself) and every word of the lexicons;
//   - cache remembers, up to stemCacheLimit words, what the stemmer made of
//     other words seen at run time; past the limit a new word is stemmed
//     each time (bounded memory whatever arrives);
//   - exceptions are added to the dictionary, so the stemmer keeps them
//     whole and strips only their particles and possessives
//     ("pemadamannya" → "pemadaman").
type stemmer struct {
	st    sastrawi.Stemmer
	dict  sastrawi.Dictionary
	fixed map[string]string // build time: lexicon word → stem

	known map[string]int32 // word → word id, or -1; read-only after seal
	vocab map[string]int32
	cache sync.Map // word → int32 word id (or -1)
	n     atomic.Int64
}

func newStemmer(exceptions []string) *stemmer {
	d := sastrawi.DefaultDictionary()
	for _, w := range exceptions {
		if w = strings.ToLower(strings.TrimSpace(w)); w != "" {
			d.Add(w)
		}
	}
	return &stemmer{st: sastrawi.NewStemmer(d), dict: d, fixed: map[string]string{}}
}

// stemWord is the stem of one normalised word.
func (s *stemmer) stemWord(w string) string {
	if len(w) < 4 || strings.ContainsAny(w, "0123456789") || s.dict.Contains(w) {
		return w
	}
	if !isASCIIWord(w) {
		// The stemmer's affix rules are for Indonesian in Latin letters.
		return w
	}
	return s.st.Stem(w)
}

// fix stems a lexicon word at build time and remembers it.
func (s *stemmer) fix(w string) string {
	if v, ok := s.fixed[w]; ok {
		return v
	}
	v := s.stemWord(w)
	s.fixed[w] = v
	return v
}

// seal builds the read-only word → id table once the vocabulary is final.
func (s *stemmer) seal(vocab map[string]int32) {
	s.vocab = vocab
	s.known = make(map[string]int32, len(s.dict)+len(s.fixed))
	for w := range s.dict {
		id, ok := vocab[w]
		if !ok {
			id = -1
		}
		s.known[w] = id
	}
	for w, st := range s.fixed {
		id, ok := vocab[st]
		if !ok {
			id = -1
		}
		s.known[w] = id
	}
	s.fixed = nil
}

// id returns the vocabulary id of w's stem, or -1 when no lexicon knows it.
func (s *stemmer) id(w string) int32 {
	if id, ok := s.known[w]; ok {
		return id
	}
	if v, ok := s.cache.Load(w); ok {
		return v.(int32)
	}
	st := s.stemWord(w)
	id, ok := s.vocab[st]
	if !ok {
		id = -1
	}
	if s.n.Load() < stemCacheLimit {
		// Clone: w is a slice of a text that must not be kept alive.
		if _, loaded := s.cache.LoadOrStore(strings.Clone(w), id); !loaded {
			s.n.Add(1)
		}
	}
	return id
}

func isASCIIWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
