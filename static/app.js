// Progressive enhancement only: every action also works as a plain form post.
