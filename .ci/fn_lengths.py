"""Function lengths in a Rust source tree: lines per top-level directory of SRC, the N longest
functions (from the `fn` line to its closing brace; test modules after `#[cfg(test)]` are
skipped) and how many exceed 60 lines. Usage: python3 .ci/fn_lengths.py src [N]."""
import re,sys,os,collections
root=sys.argv[1]
res=[];layers=collections.Counter()
for dp,_,fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p=os.path.join(dp,f); rel=os.path.relpath(p,root)
        lines=open(p).read().split('\n')
        layer=rel.split('/')[0] if '/' in rel else rel
        layers[layer]+=len(lines)
        intest=False
        for i,l in enumerate(lines):
            if re.match(r'\s*#\[cfg\(test\)\]',l): intest=True
            m=re.match(r'\s*(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?fn\s+(\w+)',l)
            if not m or intest: continue
            # find opening brace then match
            depth=0;started=False;j=i
            while j<len(lines):
                s=re.sub(r"b?'(\\.|[^'\\])'","''",lines[j]); s=re.sub(r'"(\\.|[^"\\])*"','""',s); s=re.sub(r'//.*','',s)
                for ch in s:
                    if ch=='{': depth+=1;started=True
                    elif ch=='}': depth-=1
                if started and depth<=0: break
                if not started and s.rstrip().endswith(';'): break
                j+=1
            if started: res.append((j-i+1,f"{rel}:{i+1}",m.group(5)))
res.sort(reverse=True)
print("lines per layer:",dict(sorted(layers.items())))
for n,loc,name in res[:int(sys.argv[2]) if len(sys.argv)>2 else 10]: print(n,loc,name)
print("functions over 60 lines:",sum(1 for r in res if r[0]>60))
