OFFER_COLUMNS={};OFFER_PATH_COLUMNS={}
def offers_frame(*a,**k): pass
def offer_paths_frame(*a,**k): pass
